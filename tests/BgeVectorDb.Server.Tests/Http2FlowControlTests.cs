using System.Buffers.Binary;
using System.Net.Sockets;
using BgeVectorDb.Server.Tests.Infrastructure;

namespace BgeVectorDb.Server.Tests;

/// <summary>The HTTP/2 flow-control windows the server grants, read off the wire with a raw h2c connection.</summary>
public sealed class Http2FlowControlTests() : TempServer("bgevdb-h2fc")
{
    protected override IReadOnlyDictionary<string, string> Settings => StorageServerTests.NoModels;

    /// <summary>Why: a Grpc.Net.Client (SocketsHttpHandler) streaming writer blocked on *connection* credit wakes up
    /// when another stream of the connection ends (Kestrel returns that stream's unread bytes to the connection
    /// window). If its own call has just ended (e.g. NOT_FOUND after a collection delete), it can send one more DATA
    /// frame after its own RST_STREAM; Kestrel answers with a connection error (GOAWAY STREAM_CLOSED) and every other
    /// call on the connection fails with INTERNAL. With a connection window that covers every stream's window, a
    /// writer only ever waits on its own stream's window, which Kestrel never reopens once the call has ended.</summary>
    [Fact]
    public async Task The_connection_window_covers_the_window_of_every_concurrent_stream()
    {
        var (maxStreams, streamWindow, connectionWindow) = await ReadServerWindowsAsync(new Uri(Server.Address));
        Assert.True(maxStreams is > 0 and <= 1000, $"SETTINGS_MAX_CONCURRENT_STREAMS {maxStreams}");
        Assert.True(connectionWindow >= maxStreams * streamWindow,
            $"connection window {connectionWindow} < {maxStreams} streams x stream window {streamWindow}");
    }

    /// <summary>Opens a prior-knowledge h2c connection and reads the server's first SETTINGS frame and the
    /// WINDOW_UPDATE for stream 0 that follows it (RFC 9113 sections 6.5, 6.9).</summary>
    private static async Task<(long MaxStreams, long StreamWindow, long ConnectionWindow)> ReadServerWindowsAsync(Uri address)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port, cts.Token);
        var stream = tcp.GetStream();
        var preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();
        byte[] emptySettings = [0, 0, 0, 0x4, 0, 0, 0, 0, 0];
        await stream.WriteAsync(preface.Concat(emptySettings).ToArray(), cts.Token);
        long maxStreams = -1, streamWindow = 65_535, connectionWindow = 65_535;
        var sawSettings = false;
        var header = new byte[9];
        while (true)
        {
            await stream.ReadExactlyAsync(header, cts.Token);
            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            var type = header[3];
            var flags = header[4];
            var streamId = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & 0x7FFF_FFFF;
            var payload = new byte[length];
            await stream.ReadExactlyAsync(payload, cts.Token);
            if (type == 0x4 && (flags & 0x1) == 0)
            {
                for (var i = 0; i + 6 <= length; i += 6)
                {
                    var id = BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(i));
                    var value = BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(i + 2));
                    if (id == 0x3) maxStreams = value;
                    if (id == 0x4) streamWindow = value;
                }
                sawSettings = true;
            }
            else if (type == 0x8 && streamId == 0)
            {
                connectionWindow += BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFF_FFFF;
                break;
            }
            else if (sawSettings)
            {
                break; // no WINDOW_UPDATE for the connection: it keeps the protocol's initial 65,535 bytes
            }
        }
        return (maxStreams, streamWindow, connectionWindow);
    }
}
