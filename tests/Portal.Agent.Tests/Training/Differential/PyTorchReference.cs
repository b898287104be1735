using System.Diagnostics;
using Xunit;

namespace Portal.Agent.Tests.Training.Differential;

/// <summary>
/// Runs the PyTorch reference (agents/reference/yolov4_tiny.py) with Debian's python, which has python3-torch
/// (test.sh installs it when missing). Without it the tests fail with this message; they never skip.
/// </summary>
public static class PyTorchReference
{
    public const string Python = "/usr/bin/python3";

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Portal.sln"))) return dir.FullName;
        throw new InvalidOperationException("Portal.sln not found above " + AppContext.BaseDirectory);
    }

    public static string Script => Path.Combine(RepositoryRoot(), "agents", "reference", "yolov4_tiny.py");

    /// <summary>Writes the reference for a small input into <paramref name="directory"/>.</summary>
    public static void Generate(string directory, int size = 64, params string[] extra) =>
        Run(Script, ["--out", directory, "--size", size.ToString(System.Globalization.CultureInfo.InvariantCulture), .. extra]);

    /// <summary>Runs a python snippet (with torch imported) that gets the arguments as sys.argv[1:].</summary>
    public static void Snippet(string code, params string[] args)
    {
        var file = Path.Combine(Path.GetTempPath(), $"portal-snippet-{Guid.NewGuid():N}.py");
        File.WriteAllText(file, "import sys, torch\n" + code);
        try { Run(file, args); }
        finally { File.Delete(file); }
    }

    private static void Run(string script, IEnumerable<string> args)
    {
        if (!File.Exists(Python))
            throw new InvalidOperationException($"{Python} is missing: the differential tests need Debian's python3 with python3-torch (apt-get install -y python3-torch).");
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (stderr.Contains("No module named 'torch'", StringComparison.Ordinal))
            throw new InvalidOperationException($"{Python} has no torch: install Debian's python3-torch (apt-get install -y python3-torch; test.sh does it).");
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{script} failed with exit code {process.ExitCode}: {stderr}{stdout.Result}");
    }
}

/// <summary>One reference folder at input size 64, written once for all the differential tests.</summary>
public sealed class ReferenceFixture : IDisposable
{
    public ReferenceFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("portal-reference-").FullName;
        PyTorchReference.Generate(Directory);
    }

    public string Directory { get; }

    /// <summary>A copy of the reference folder to spoil.</summary>
    public string Copy(string work)
    {
        var copy = Path.Combine(work, "reference-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(copy);
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

[CollectionDefinition(nameof(ReferenceCollection))]
public sealed class ReferenceCollection : ICollectionFixture<ReferenceFixture>;
