using System.Globalization;
using Microsoft.Extensions.Logging;
using Portal.Contracts;
using Portal.Training.Numerics;
using static TorchSharp.torch;

namespace Portal.Agent;

/// <summary>
/// The numeric self-check an agent runs before it takes jobs: first as configured; when that fails with more than
/// one libtorch thread, again with a single thread (multi-threaded CPU kernels are where CPU-specific faults have
/// shown), which the agent then trains with. When both fail, the agent registers but takes no job, and says why.
/// </summary>
internal static class AgentSelfCheck
{
    public static NumericCheckReport Run(Device device, ILogger logger, Func<int, string, Tensor, Tensor>? tamper = null)
    {
        var configured = get_num_threads();
        var first = RunOnce(device, configured, tamper);
        if (first.Passed) return Report(NumericCheckStatus.Passed, first, null, logger);
        logger.LogWarning("Numeric self-check failed with {Threads} threads: {Failure}", configured, first.FirstFailure!.Describe());
        if (device.type == TorchSharp.DeviceType.CPU && configured > 1)
        {
            set_num_threads(1);
            var fallback = RunOnce(device, 1, tamper);
            if (fallback.Passed) return Report(NumericCheckStatus.PassedWithFallback, fallback, first, logger);
            set_num_threads(configured);
            return Report(NumericCheckStatus.Failed, fallback, first, logger);
        }
        return Report(NumericCheckStatus.Failed, first, first, logger);
    }

    private static NumericCheckResult RunOnce(Device device, int threads, Func<int, string, Tensor, Tensor>? tamper)
    {
        try
        {
            return NumericSelfCheck.Run(device, tamper is null ? null : (name, t) => tamper(threads, name, t));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A kernel that throws is as unusable as one that computes wrong numbers.
            var item = new NumericCheckItem($"the check itself ({e.GetType().Name}: {e.Message})", "", double.NaN, double.NaN, double.PositiveInfinity, false);
            return new NumericCheckResult(device.type.ToString().ToLowerInvariant(), threads, [item], TimeSpan.Zero);
        }
    }

    private static NumericCheckReport Report(NumericCheckStatus status, NumericCheckResult final, NumericCheckResult? configured, ILogger logger)
    {
        var setting = Setting(final);
        var failure = configured?.FirstFailure;
        var summary = status switch
        {
            NumericCheckStatus.Passed => $"Passed on {setting}: {final.Items.Count} results of {Operations(final)} operations within tolerance of float64.",
            NumericCheckStatus.PassedWithFallback => $"Passed with fallback: {setting}. With {configured!.Threads} threads {failure!.Describe()}.",
            _ => $"Failed on {Setting(configured!)}" + (ReferenceEquals(configured, final) ? "" : $" and on {setting}") + $": {final.FirstFailure!.Describe()}. This agent takes no job.",
        };
        var seconds = final.Elapsed.TotalSeconds + (configured is null || ReferenceEquals(configured, final) ? 0 : configured.Elapsed.TotalSeconds);
        var report = new NumericCheckReport(status, status == NumericCheckStatus.PassedWithFallback ? setting + " (fallback)" : setting,
            failure?.Operation, Finite(failure?.MaxAbsError), Finite(failure?.MaxRelError), summary, seconds);
        if (status == NumericCheckStatus.Failed) logger.LogError("Numeric self-check: {Summary}", summary);
        else logger.LogInformation("Numeric self-check: {Summary} ({Seconds:F1} s)", summary, report.Seconds);
        return report;
    }

    private static string Setting(NumericCheckResult r) =>
        string.Create(CultureInfo.InvariantCulture, $"{r.Device}, {r.Threads} thread{(r.Threads == 1 ? "" : "s")}");

    private static int Operations(NumericCheckResult r) => r.Items.Select(i => i.Operation.Split(':')[0]).Distinct().Count();

    // MessagePack and JSON both carry infinities, but a NaN error says nothing a reader can use.
    private static double? Finite(double? value) => value is { } v && double.IsNaN(v) ? null : value;
}
