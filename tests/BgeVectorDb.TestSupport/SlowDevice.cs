using System.Runtime.InteropServices;
using FASTER.core;

namespace BgeVectorDb.TestSupport;

/// <summary>A slow disk: delegates to a real FASTER device, but each write is copied at once and issued only after
/// <c>delay</c>, which ignores cancellation and disposal (like an I/O stuck in the kernel), so a FASTER flush cannot
/// finish sooner. Reads and everything else go straight through.</summary>
public sealed class SlowDevice(IDevice inner, TimeSpan delay) : IDevice
{
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
        Later(sourceAddress, numBytesToWrite, callback, source => inner.WriteAsync(source, segmentId, destinationAddress, numBytesToWrite, callback, context), context);

    public void WriteAsync(IntPtr sourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        Later(sourceAddress, numBytesToWrite, callback, source => inner.WriteAsync(source, alignedDestinationAddress, numBytesToWrite, callback, context), context);

    /// <summary>Copies the bytes now (the caller may reuse its buffer once it is called back), writes them later
    /// from a pinned copy; a write that fails after the delay (the store was closed meanwhile) reports an error.</summary>
    private void Later(IntPtr sourceAddress, uint length, DeviceIOCompletionCallback callback, Action<IntPtr> write, object context)
    {
        var copy = GC.AllocateUninitializedArray<byte>((int)length, pinned: true);
        Marshal.Copy(sourceAddress, copy, 0, (int)length);
        _ = Task.Run(async () =>
        {
            await Task.Delay(delay);
            try
            {
                write(Marshal.UnsafeAddrOfPinnedArrayElement(copy, 0));
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or FasterException)
            {
                callback(1, 0, context);
            }
            GC.KeepAlive(copy);
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

    public void Dispose() => inner.Dispose();
}
