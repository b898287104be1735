using System.Globalization;
using System.Text.Json;

namespace Portal.Cli;

/// <summary>
/// The commands. Exit codes: 0 done, 1 a run did not succeed or a release gate fails, 2 the command line was wrong,
/// 3 the portal refused or could not be reached (its message is printed).
/// </summary>
public static class PortalCli
{
    public const int Ok = 0, RunFailed = 1, GateFailed = 1, Usage = 2, ApiError = 3;

    public const string Help = """
        portal login --url URL --token TOKEN        store the portal's address and your token (from your account page)
        portal runs queue --project P --recipe R --config FILE [--seeds 1,2,3 | --seed N] [--commit C] [--wait] [--poll SECONDS]
        portal runs get RUN
        portal runs metrics RUN [--csv] [--name METRIC] [--full]
        portal tasks list [--mine] [--status S]
        portal releases gates REL                   exits 0 when every gate passes, 1 when one fails

        Exit codes: 0 done, 1 a run did not succeed (--wait) or a release gate fails, 2 a wrong command line,
        3 the portal refused the request or could not be reached.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, string configPath,
        HttpMessageHandler? handler = null, CancellationToken ct = default)
    {
        try
        {
            var command = string.Join(' ', args.TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).Take(2));
            var positional = args.TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).Skip(2).ToList();
            var options = Options.Parse(args.SkipWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray());
            if (command is "login" || command.StartsWith("login ", StringComparison.Ordinal))
                return await LoginAsync(options, output, configPath, handler, ct);
            if (command is "" or "help" || options.Has("help")) { output.WriteLine(Help); return command is "" ? Usage : Ok; }

            var config = CliConfig.Load(configPath) ?? throw new UsageException($"Not signed in: run 'portal login --url URL --token TOKEN' first ({configPath}).");
            using var client = new PortalClient(config.Url, config.Token, handler);
            return command switch
            {
                "runs queue" => await QueueAsync(client, options, output, ct),
                "runs get" => await GetRunAsync(client, Single(positional, "RUN"), output, ct),
                "runs metrics" => await MetricsAsync(client, Single(positional, "RUN"), options, output, ct),
                "tasks list" => await TasksAsync(client, options, output, ct),
                "releases gates" => await GatesAsync(client, Single(positional, "REL"), output, ct),
                _ => throw new UsageException($"Unknown command '{command}'.\n{Help}"),
            };
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync(e.Message);
            return Usage;
        }
        catch (PortalApiException e)
        {
            await error.WriteLineAsync($"portal: {e.Message}");
            return ApiError;
        }
    }

    private static async Task<int> LoginAsync(Options options, TextWriter output, string configPath, HttpMessageHandler? handler, CancellationToken ct)
    {
        var url = options.Required("url");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new UsageException($"--url must be an http or https address; '{url}' is not.");
        var token = options.Value("token") ?? Environment.GetEnvironmentVariable("PORTAL_TOKEN")
                    ?? throw new UsageException("Give --token TOKEN (or set PORTAL_TOKEN).");
        using var client = new PortalClient(url, token, handler);
        var me = await client.GetJsonAsync("api/v1/me", ct); // a token that does not work is not stored
        new CliConfig(url, token).Save(configPath);
        output.WriteLine($"Signed in to {url} as {me.GetProperty("displayName").GetString()} " +
                         $"(roles: {Join(me.GetProperty("roles"))}; token scopes: {Join(me.GetProperty("scopes"))}). Saved in {configPath}.");
        return Ok;
    }

    private static async Task<int> QueueAsync(PortalClient client, Options options, TextWriter output, CancellationToken ct)
    {
        var projectId = await ProjectIdAsync(client, options.Required("project"), ct);
        var recipe = options.Required("recipe");
        var configFile = options.Required("config");
        if (!File.Exists(configFile)) throw new UsageException($"There is no config file '{configFile}'.");
        JsonElement config;
        try { config = JsonDocument.Parse(File.ReadAllText(configFile)).RootElement.Clone(); }
        catch (JsonException e) { throw new UsageException($"The config file '{configFile}' is not JSON: {e.Message}"); }
        var seeds = options.Value("seeds") is { } list ? ParseSeeds(list) : [options.Int("seed") ?? 0];
        var poll = TimeSpan.FromSeconds(options.Double("poll") ?? 2);

        var queued = await client.PostJsonAsync($"api/v1/projects/{projectId}/runs",
            new { recipe, config, seeds, commit = options.Value("commit") }, ct);
        var ids = queued.GetProperty("runIds").EnumerateArray().Select(e => e.GetInt64()).ToList();
        for (var i = 0; i < ids.Count; i++) output.WriteLine($"Queued run #{ids[i]} (seed {seeds[i]}).");
        if (!options.Has("wait")) return Ok;

        var last = new Dictionary<long, string>();
        var finished = new Dictionary<long, string>();
        while (finished.Count < ids.Count)
        {
            foreach (var id in ids.Where(id => !finished.ContainsKey(id)))
            {
                var run = await client.GetJsonAsync($"api/v1/runs/{id}", ct);
                var status = run.GetProperty("status").GetString()!;
                var line = $"run #{id}: {status}, step {run.GetProperty("lastStep").GetInt64()}" +
                           (run.GetProperty("agent").ValueKind == JsonValueKind.String ? $" on {run.GetProperty("agent").GetString()}" : "");
                if (!last.TryGetValue(id, out var previous) || previous != line) output.WriteLine(line);
                last[id] = line;
                if (status is "Succeeded" or "Failed" or "Cancelled" or "Lost")
                {
                    finished[id] = status;
                    var reason = run.GetProperty("failureReason");
                    if (status != "Succeeded" && reason.ValueKind == JsonValueKind.String) output.WriteLine($"run #{id}: {reason.GetString()}");
                    if (status == "Succeeded") output.WriteLine($"run #{id}: {Finals(run.GetProperty("finalMetrics"))}");
                }
            }
            if (finished.Count < ids.Count) await Task.Delay(poll, ct);
        }
        var failed = finished.Where(f => f.Value != "Succeeded").ToList();
        output.WriteLine(failed.Count == 0
            ? $"All {ids.Count} run(s) succeeded."
            : $"{failed.Count} of {ids.Count} run(s) did not succeed: {string.Join(", ", failed.Select(f => $"#{f.Key} {f.Value}"))}.");
        return failed.Count == 0 ? Ok : RunFailed;
    }

    private static async Task<int> GetRunAsync(PortalClient client, string run, TextWriter output, CancellationToken ct)
    {
        var r = await client.GetJsonAsync($"api/v1/runs/{RunId(run)}", ct);
        output.WriteLine($"run #{r.GetProperty("id").GetInt64()} {r.GetProperty("recipe").GetString()} seed {r.GetProperty("seed").GetInt32()}: " +
                         $"{r.GetProperty("status").GetString()}, step {r.GetProperty("lastStep").GetInt64()}; {Finals(r.GetProperty("finalMetrics"))}");
        return Ok;
    }

    private static async Task<int> MetricsAsync(PortalClient client, string run, Options options, TextWriter output, CancellationToken ct)
    {
        var query = new List<string>();
        if (options.Value("name") is { } name) query.Add("name=" + Uri.EscapeDataString(name));
        if (options.Has("full")) query.Add("full=true");
        var path = $"api/v1/runs/{RunId(run)}/metrics" + (query.Count > 0 ? "?" + string.Join("&", query) : "");
        if (options.Has("csv"))
        {
            output.Write(await client.GetTextAsync(path + (query.Count > 0 ? "&" : "?") + "format=csv", "text/csv", ct));
            return Ok;
        }
        var metrics = await client.GetJsonAsync(path, ct);
        output.WriteLine($"run #{metrics.GetProperty("runId").GetInt64()}: {metrics.GetProperty("status").GetString()}, step {metrics.GetProperty("lastStep").GetInt64()}");
        foreach (var s in metrics.GetProperty("series").EnumerateArray())
        {
            var points = s.GetProperty("points");
            var lastPoint = points.GetArrayLength() > 0 ? points[points.GetArrayLength() - 1] : default;
            output.WriteLine($"  {s.GetProperty("name").GetString(),-24} {s.GetProperty("count").GetInt64(),8} points" +
                             (lastPoint.ValueKind == JsonValueKind.Object ? $", last {Number(lastPoint.GetProperty("value"))} at step {lastPoint.GetProperty("step").GetInt64()}" : ""));
        }
        output.WriteLine($"  final: {Finals(metrics.GetProperty("finalMetrics"))}");
        return Ok;
    }

    private static async Task<int> TasksAsync(PortalClient client, Options options, TextWriter output, CancellationToken ct)
    {
        var query = new List<string> { "limit=200" };
        if (options.Has("mine")) query.Add("mine=true");
        if (options.Value("status") is { } status) query.Add("status=" + Uri.EscapeDataString(status));
        var projects = (await client.GetJsonAsync("api/v1/projects?limit=200", ct)).GetProperty("items").EnumerateArray()
            .ToDictionary(p => p.GetProperty("id").GetInt64(), p => p.GetProperty("name").GetString()!);
        var count = 0;
        string? next = "api/v1/tasks?" + string.Join("&", query);
        while (next is not null)
        {
            var page = await client.GetJsonAsync(next, ct);
            foreach (var t in page.GetProperty("items").EnumerateArray())
            {
                count++;
                var assignee = t.GetProperty("assigneeName").ValueKind == JsonValueKind.String ? $" · {t.GetProperty("assigneeName").GetString()}" : "";
                output.WriteLine($"#{t.GetProperty("id").GetInt64()} [{t.GetProperty("status").GetString()}] {t.GetProperty("title").GetString()} " +
                                 $"({projects.GetValueOrDefault(t.GetProperty("projectId").GetInt64(), "?")}, {t.GetProperty("component").GetString()}){assignee}");
            }
            next = page.GetProperty("next").ValueKind == JsonValueKind.String ? page.GetProperty("next").GetString() : null;
        }
        output.WriteLine($"{count} task(s).");
        return Ok;
    }

    private static async Task<int> GatesAsync(PortalClient client, string release, TextWriter output, CancellationToken ct)
    {
        if (!long.TryParse(release, out var id)) throw new UsageException($"REL is a release id; '{release}' is not.");
        var r = await client.GetJsonAsync($"api/v1/releases/{id}", ct);
        output.WriteLine($"{r.GetProperty("name").GetString()} {r.GetProperty("version").GetString()} ({r.GetProperty("status").GetString()})");
        foreach (var g in r.GetProperty("gates").EnumerateArray())
        {
            output.WriteLine($"  {(g.GetProperty("passed").GetBoolean() ? "PASS" : "FAIL")}  {g.GetProperty("title").GetString()}: {g.GetProperty("summary").GetString()}");
            foreach (var reason in g.GetProperty("reasons").EnumerateArray()) output.WriteLine($"        {reason.GetString()}");
        }
        var signOff = r.GetProperty("signOff");
        output.WriteLine($"  sign-off: {signOff.GetProperty("standingApprovals").GetInt32()} of {signOff.GetProperty("requiredApprovals").GetInt32()} approvals standing");
        // The portal's own verdict decides, so a CI step fails exactly when the release page shows a gate failing.
        var failing = r.GetProperty("gates").EnumerateArray().Where(g => !g.GetProperty("passed").GetBoolean())
            .Select(g => g.GetProperty("title").GetString()).ToList();
        var gates = r.GetProperty("gates").GetArrayLength();
        if (r.GetProperty("allGatesPass").GetBoolean() && failing.Count == 0)
        {
            output.WriteLine($"All {gates} gates pass.");
            return Ok;
        }
        output.WriteLine($"{failing.Count} of {gates} gates fail: {string.Join(", ", failing)}.");
        return GateFailed;
    }

    private static async Task<long> ProjectIdAsync(PortalClient client, string project, CancellationToken ct)
    {
        if (long.TryParse(project, out var id)) return id;
        var matches = (await client.GetJsonAsync("api/v1/projects?limit=200", ct)).GetProperty("items").EnumerateArray()
            .Where(p => string.Equals(p.GetProperty("name").GetString(), project, StringComparison.OrdinalIgnoreCase))
            .Select(p => p.GetProperty("id").GetInt64()).ToList();
        return matches.Count == 1 ? matches[0] : throw new UsageException($"There is no project named '{project}'; give its name exactly or its id.");
    }

    private static long RunId(string run) =>
        long.TryParse(run.TrimStart('#'), out var id) ? id : throw new UsageException($"RUN is a run id; '{run}' is not.");

    private static List<int> ParseSeeds(string list)
    {
        var seeds = new List<int>();
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            seeds.Add(int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : throw new UsageException($"--seeds takes numbers like 1,2,3; '{part}' is not one."));
        return seeds.Count > 0 ? seeds : throw new UsageException("--seeds takes numbers like 1,2,3.");
    }

    private static string Single(List<string> positional, string what) =>
        positional.Count == 1 ? positional[0] : throw new UsageException($"Give one {what}.\n{Help}");

    private static string Join(JsonElement array) => string.Join(", ", array.EnumerateArray().Select(e => e.GetString()));

    private static string Finals(JsonElement finals)
    {
        var parts = finals.EnumerateObject().Select(p => $"{p.Name} {Number(p.Value)}").ToList();
        return parts.Count == 0 ? "no final metrics" : string.Join(", ", parts);
    }

    private static string Number(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number ? value.GetDouble().ToString("0.####", CultureInfo.InvariantCulture) : "n/a";
}

internal sealed class UsageException(string message) : Exception(message);

/// <summary>`--name value` pairs and bare `--flag`s; a flag that is not known to any command is an error.</summary>
internal sealed class Options
{
    private static readonly HashSet<string> Known =
        ["url", "token", "project", "recipe", "config", "seeds", "seed", "commit", "wait", "poll", "csv", "name", "full", "mine", "status", "help"];
    private static readonly HashSet<string> Flags = ["wait", "csv", "full", "mine", "help"];
    private readonly Dictionary<string, string?> _values = [];

    public static Options Parse(string[] args)
    {
        var options = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"Unexpected '{args[i]}'.\n{PortalCli.Help}");
            var name = args[i][2..];
            string? value = null;
            if (name.Contains('=')) (name, value) = (name[..name.IndexOf('=')], name[(name.IndexOf('=') + 1)..]);
            if (!Known.Contains(name)) throw new UsageException($"Unknown option --{name}.\n{PortalCli.Help}");
            if (value is null && !Flags.Contains(name))
            {
                if (i + 1 >= args.Length) throw new UsageException($"--{name} needs a value.");
                value = args[++i];
            }
            options._values[name] = value;
        }
        return options;
    }

    public bool Has(string name) => _values.ContainsKey(name);
    public string? Value(string name) => _values.GetValueOrDefault(name);
    public string Required(string name) => Value(name) ?? throw new UsageException($"--{name} is required.\n{PortalCli.Help}");

    public int? Int(string name) => Value(name) is { } v
        ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : throw new UsageException($"--{name} takes a whole number; '{v}' is not.")
        : null;

    public double? Double(string name) => Value(name) is { } v
        ? double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0 ? d : throw new UsageException($"--{name} takes a positive number; '{v}' is not.")
        : null;
}
