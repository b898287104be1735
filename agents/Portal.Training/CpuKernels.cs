using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Portal.Training;

/// <summary>
/// Which kernels libtorch runs CPU convolutions with. oneDNN's AVX-512 backward-data convolution returns NaN or
/// wrong gradients when a layer's channel count is not a multiple of 16 (docs/decisions/0007), so CPU convolutions
/// run on ATen's own kernels instead. The switch is libtorch's global "user enabled mkldnn" flag
/// (<c>torch.backends.mkldnn.enabled</c> in Python), which TorchSharp does not expose; it is read on every
/// convolution, so setting it works at any time and needs no environment variable.
/// </summary>
public static class CpuKernels
{
    private static readonly object Gate = new();
    private static string? _configuration;

    /// <summary>What <see cref="UseAtenConvolutions"/> did, in words, for the environment record and the agent's log.</summary>
    public static string Configuration => _configuration ?? "oneDNN as libtorch defaults (not configured)";

    /// <summary>True when libtorch would run CPU convolutions with oneDNN.</summary>
    public static bool OneDnnEnabled
    {
        get
        {
            InitializeDeviceType(TorchSharp.DeviceType.CPU);
            return Native.UserEnabledMkldnn(Native.GlobalContext());
        }
    }

    /// <summary>Turns oneDNN off for CPU convolutions in this process; idempotent. Returns the resulting configuration.</summary>
    public static string UseAtenConvolutions()
    {
        lock (Gate)
        {
            if (_configuration is not null) return _configuration;
            SetOneDnn(false);
            // Without oneDNN, ATen would try NNPACK first for some convolutions; where NNPACK cannot start (AVX-512
            // machines among them) every such call logs a warning. ATen's im2col path needs neither.
            InitializeDeviceType(TorchSharp.DeviceType.CPU);
            Native.SetUserEnabledNnpack(Native.GlobalContext(), false);
            _configuration = "oneDNN off for CPU convolutions (ATen kernels; docs/decisions/0007)";
            return _configuration;
        }
    }

    /// <summary>Sets libtorch's flag directly; only tests that show the faulty kernel turn oneDNN back on.</summary>
    public static void SetOneDnn(bool enabled)
    {
        InitializeDeviceType(TorchSharp.DeviceType.CPU);
        var context = Native.GlobalContext();
        Native.SetUserEnabledMkldnn(context, enabled);
        if (Native.UserEnabledMkldnn(context) != enabled)
            throw new InvalidOperationException($"libtorch did not take oneDNN enabled = {enabled}.");
        if (enabled) _configuration = null;
    }

    // at::globalContext() and at::Context's mkldnn and NNPACK flag accessors, exported by libtorch_cpu. A member function takes
    // the object as its first argument in the x86-64 System V ABI. The library is already loaded by TorchSharp
    // (from its own folder or an installed PyTorch's torch/lib), and dlopen finds it by its soname.
    private static class Native
    {
        private const string Library = "libtorch_cpu.so";

        [DllImport(Library, EntryPoint = "_ZN2at13globalContextEv")]
        public static extern IntPtr GlobalContext();

        [DllImport(Library, EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
        public static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

        [DllImport(Library, EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
        public static extern void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

        [DllImport(Library, EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
        [return: MarshalAs(UnmanagedType.U1)]
        public static extern bool UserEnabledMkldnn(IntPtr context);
    }
}
