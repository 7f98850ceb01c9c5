using BgeVectorDb.Server.Hosting;

return await ServerHost.RunAsync(args);
