using System.Runtime.InteropServices;
using FASTER.core;

namespace BgeVectorDb.TestSupport;

/// <summary>A slow disk: delegates to a real FASTER device, but each write is copied at once and issued only after
/// <c>delay</c>, which ignores cancellation and disposal (like an I/O stuck in the kernel), so a FASTER flush cannot
/// finish sooner. Reads and everything else go straight through.</summary>
public sealed class SlowDevice(IDevice inner, TimeSpan delay) : IDevice
{
    private readonly Lock _sync = new();
    private bool _disposed;

    public uint SectorSize => inner.SectorSize;

    public string FileName => inner.FileName;

    public long Capacity => inner.Capacity;

    public long SegmentSize => inner.SegmentSize;

    public int StartSegment => inner.StartSegment;

    public int EndSegment => inner.EndSegment;

    public int ThrottleLimit
    {
        get => inner.ThrottleLimit;
        set => inner.ThrottleLimit = value;
    }

    public void Initialize(long segmentSize, LightEpoch? epoch = null, bool omitSegmentIdFromFilename = false) =>
        inner.Initialize(segmentSize, epoch, omitSegmentIdFromFilename);

    public bool TryComplete() => inner.TryComplete();

    public bool Throttle() => inner.Throttle();

    public void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        Later(sourceAddress, numBytesToWrite, callback, context, (source, done) => inner.WriteAsync(source, segmentId, destinationAddress, numBytesToWrite, done, context));

    public void WriteAsync(IntPtr sourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        Later(sourceAddress, numBytesToWrite, callback, context, (source, done) => inner.WriteAsync(source, alignedDestinationAddress, numBytesToWrite, done, context));

    /// <summary>Copies the bytes now (the caller may reuse its buffer once it is called back) and writes them after the
    /// delay from the pinned copy, kept alive until the real device calls back. A write still delayed when the device
    /// is disposed is dropped without a callback: its store is gone.</summary>
    private void Later(IntPtr sourceAddress, uint length, DeviceIOCompletionCallback callback, object context, Action<IntPtr, DeviceIOCompletionCallback> write)
    {
        var copy = GC.AllocateUninitializedArray<byte>((int)length, pinned: true);
        Marshal.Copy(sourceAddress, copy, 0, (int)length);
        _ = Task.Run(async () =>
        {
            await Task.Delay(delay);
            lock (_sync)
            {
                if (_disposed) return;
                try
                {
                    write(Marshal.UnsafeAddrOfPinnedArrayElement(copy, 0), (errorCode, bytes, ctx) =>
                    {
                        GC.KeepAlive(copy);
                        callback(errorCode, bytes, ctx);
                    });
                }
                catch (Exception ex) when (ex is IOException or InvalidOperationException or FasterException)
                {
                    callback(1, 0, context);
                }
            }
        });
    }

    public void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context) =>
        inner.ReadAsync(segmentId, sourceAddress, destinationAddress, readLength, callback, context);

    public void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint alignedReadLength, DeviceIOCompletionCallback callback, object context) =>
        inner.ReadAsync(alignedSourceAddress, alignedDestinationAddress, alignedReadLength, callback, context);

    public void TruncateUntilAddressAsync(long toAddress, AsyncCallback callback, IAsyncResult result) => inner.TruncateUntilAddressAsync(toAddress, callback, result);

    public void TruncateUntilAddress(long toAddress) => inner.TruncateUntilAddress(toAddress);

    public void TruncateUntilSegmentAsync(int toSegment, AsyncCallback callback, IAsyncResult result) => inner.TruncateUntilSegmentAsync(toSegment, callback, result);

    public void TruncateUntilSegment(int toSegment) => inner.TruncateUntilSegment(toSegment);

    public void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result) => inner.RemoveSegmentAsync(segment, callback, result);

    public void RemoveSegment(int segment) => inner.RemoveSegment(segment);

    public long GetFileSize(int segment) => inner.GetFileSize(segment);

    public void Reset() => inner.Reset();

    public void Dispose()
    {
        lock (_sync) _disposed = true;
        inner.Dispose();
    }
}
