using Google.Rpc;
using Grpc.Core;

namespace BgeVectorDb.Server.Tests.Infrastructure;

public static class RpcAssert
{
    /// <summary>Asserts the call fails with <paramref name="code"/>; for INVALID_ARGUMENT also that the
    /// message and the BadRequest field violation name <paramref name="field"/>.</summary>
    public static async Task<RpcException> FailsAsync(StatusCode code, Func<Task> call, string? field = null)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(code == ex.StatusCode, $"expected {code}, got {ex.StatusCode}: {ex.Status.Detail}");
        if (field is not null)
        {
            Assert.Contains(field, ex.Status.Detail, StringComparison.Ordinal);
            var status = ex.GetRpcStatus();
            Assert.NotNull(status);
            var badRequest = status!.GetDetail<BadRequest>();
            Assert.NotNull(badRequest);
            Assert.Contains(badRequest!.FieldViolations, v => v.Field == field);
        }
        return ex;
    }
}
