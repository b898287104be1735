using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portal.Training.Data;
using Portal.Training.Evaluation;
using Xunit;
using Xunit.Abstractions;

namespace Portal.Agent.Tests.Training;

/// <summary>
/// The evaluator against cocoeval_reference.py, COCOeval's algorithm written afresh in numpy, on seeded cases
/// built to hit what plain cases miss: crowded images, equal scores, duplicates, classes without ground truth,
/// images without detections, crowd regions, segmentation areas and boxes on COCO's area boundaries.
/// </summary>
public sealed class CocoEvalReferenceTests(ITestOutputHelper output) : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private readonly string _work = Directory.CreateTempSubdirectory("portal-cocoeval-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private sealed record Case(string Name, IReadOnlyList<GroundTruth> Truths, IReadOnlyList<Detection> Detections);

    [Fact]
    public void All_twelve_summary_numbers_agree_with_the_numpy_reference_on_crowded_and_tied_cases()
    {
        var cases = Enumerable.Range(0, 48).Select(Generate).ToList();
        // The generator must really produce what the test is about, or agreement proves little.
        Assert.Contains(cases, c => c.Detections.GroupBy(d => (d.ImageId, d.ClassId)).Any(g => g.Count() > 100));
        Assert.True(cases.Count(c => c.Detections.GroupBy(d => d.ImageId).Any(g => g.Count() > 100)) >= 6);
        Assert.Contains(cases, c => c.Detections.GroupBy(d => d.ImageId).Any(g => g.Count() != g.Select(d => d.Score).Distinct().Count()));
        Assert.Contains(cases, c => c.Detections.Select(d => d.ClassId).Except(c.Truths.Select(t => t.ClassId)).Any());
        Assert.Contains(cases, c => c.Truths.Select(t => t.ImageId).Except(c.Detections.Select(d => d.ImageId)).Any());
        Assert.Contains(cases, c => c.Truths.Any(t => t.IsCrowd));

        var expected = RunReference(cases);

        var failures = new List<string>();
        var defined = new int[DetectionMetrics.Names.Count];
        for (var i = 0; i < cases.Count; i++)
        {
            var actual = CocoEvaluator.Evaluate(cases[i].Truths, cases[i].Detections).Named;
            for (var m = 0; m < actual.Count; m++)
            {
                if (expected[i][m] > 0) defined[m]++;
                if (Math.Abs(actual[m].Value - expected[i][m]) > 1e-9)
                    failures.Add($"{cases[i].Name} {actual[m].Key}: evaluator {actual[m].Value:R}, reference {expected[i][m]:R}");
            }
        }
        output.WriteLine($"{cases.Count} cases; cases with a positive value per metric: " +
            string.Join(", ", DetectionMetrics.Names.Select((n, m) => $"{n} {defined[m]}")));
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count * 12} numbers differ:\n" + string.Join("\n", failures.Take(40)));
        Assert.All(defined, count => Assert.True(count >= 5, "every metric is positive in at least five cases"));
    }

    private List<double[]> RunReference(IReadOnlyList<Case> cases)
    {
        Assert.True(File.Exists(Python),
            $"This test needs {Python} with numpy (Debian: apt-get install python3-numpy); test.sh installs it.");
        var script = Path.Combine(AppContext.BaseDirectory, "Training", "cocoeval_reference.py");
        var casesPath = Path.Combine(_work, "cases.json");
        var resultsPath = Path.Combine(_work, "results.json");
        File.WriteAllText(casesPath, new JsonObject { ["cases"] = new JsonArray([.. cases.Select(ToCoco)]) }.ToJsonString());

        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { script, casesPath, resultsPath }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(10)), "the reference did not finish within ten minutes");
        Assert.True(process.ExitCode == 0,
            $"{Python} {script} failed (exit {process.ExitCode}); it needs numpy (Debian: apt-get install python3-numpy):\n{stderr.Result}{stdout.Result}");

        var results = JsonNode.Parse(File.ReadAllText(resultsPath))!["results"]!.AsArray();
        Assert.Equal(cases.Count, results.Count);
        return results.Select(r => r!.AsArray().Select(v => v!.GetValue<double>()).ToArray()).ToList();
    }

    /// <summary>The case in COCO's format; boxes as [x1, y1, x2 - x1, y2 - y1] in double, as the evaluator takes them.</summary>
    private static JsonObject ToCoco(Case c)
    {
        static JsonArray Bbox(Box b) => [(double)b.X1, (double)b.Y1, (double)b.X2 - b.X1, (double)b.Y2 - b.Y1];
        static double BoxArea(Box b) => ((double)b.X2 - b.X1) * ((double)b.Y2 - b.Y1);
        return new JsonObject
        {
            ["images"] = new JsonArray([.. c.Truths.Select(t => t.ImageId).Concat(c.Detections.Select(d => d.ImageId)).Distinct().Select(i => (JsonNode)i)]),
            ["categories"] = new JsonArray([.. c.Truths.Select(t => t.ClassId).Concat(c.Detections.Select(d => d.ClassId)).Distinct().Select(k => (JsonNode)k)]),
            ["annotations"] = new JsonArray([.. c.Truths.Select(t => (JsonNode)new JsonObject
            {
                ["image_id"] = t.ImageId, ["category_id"] = t.ClassId, ["bbox"] = Bbox(t.Box),
                ["area"] = t.Area ?? BoxArea(t.Box), ["iscrowd"] = t.IsCrowd ? 1 : 0,
            })]),
            ["detections"] = new JsonArray([.. c.Detections.Select(d => (JsonNode)new JsonObject
            {
                ["image_id"] = d.ImageId, ["category_id"] = d.ClassId, ["bbox"] = Bbox(d.Box), ["score"] = (double)d.Score,
            })]),
        };
    }

    /// <summary>A seeded case: a few images (ids unsorted, with gaps), a few classes, one in four cases crowded.</summary>
    private static Case Generate(int seed)
    {
        var random = new Random(1000 + seed);
        var crowded = seed % 4 == 0;
        var classes = 1 + random.Next(crowded ? 4 : 5);
        var imageIds = Enumerable.Range(0, 1 + random.Next(6)).Select(_ => random.Next(-5, 500)).Distinct().ToArray();
        // Sometimes a class that only ever has detections.
        var truthClasses = classes > 1 && random.NextDouble() < 0.4 ? classes - 1 : classes;
        var truths = new List<GroundTruth>();
        var detections = new List<Detection>();
        var quantized = random.NextDouble() < 0.5;

        float Score() => quantized ? MathF.Round((float)random.NextDouble() * 8) / 8 : (float)random.NextDouble();

        foreach (var image in imageIds)
        {
            var imageTruths = new List<GroundTruth>();
            var truthCount = random.NextDouble() < 0.15 ? 0 : random.Next(1, crowded ? 40 : 12);
            for (var i = 0; i < truthCount; i++)
            {
                var box = RandomBox(random);
                var crowd = random.NextDouble() < 0.06;
                double? area = random.NextDouble() < 0.25 ? BoxArea(box) * (0.4 + 0.6 * random.NextDouble()) : null;
                if (random.NextDouble() < 0.05) area = random.NextDouble() < 0.5 ? 32 * 32 : 96 * 96;
                imageTruths.Add(new GroundTruth(image, random.Next(truthClasses), box, crowd, area));
            }
            truths.AddRange(imageTruths);

            var detectionCount = random.NextDouble() < 0.15 ? 0 : crowded && random.NextDouble() < 0.7 ? random.Next(120, 320) : random.Next(0, 20);
            // A crowded image piles most of its detections onto one class, beyond the 100 COCO keeps per class.
            var favourite = random.Next(classes);
            for (var i = 0; i < detectionCount; i++)
            {
                var classId = crowded && random.NextDouble() < 0.6 ? favourite : random.Next(classes);
                var roll = random.NextDouble();
                if (roll < 0.1 && detections.Count > 0 && detections[^1].ImageId == image)
                {
                    var previous = detections[^1];
                    detections.Add(previous with { Score = random.NextDouble() < 0.5 ? previous.Score : Score() });
                }
                else if (roll < 0.7 && imageTruths.Count > 0)
                {
                    var target = imageTruths[random.Next(imageTruths.Count)];
                    var ofClass = random.NextDouble() < 0.8 ? target.ClassId : classId;
                    detections.Add(new Detection(image, ofClass, Score(), Jitter(random, target.Box)));
                }
                else
                {
                    detections.Add(new Detection(image, classId, Score(), RandomBox(random)));
                }
            }
        }
        // Input order across images is not image order: the evaluator must not depend on it.
        var shuffled = detections.Select(d => (d, k: random.Next())).OrderBy(x => x.k).Select(x => x.d).ToList();
        var keepImageOrder = random.NextDouble() < 0.5;
        var ordered = keepImageOrder ? detections : StableByImage(shuffled, detections);
        return new Case($"case {seed}{(crowded ? " (crowded)" : "")}", truths, ordered);
    }

    /// <summary>Interleaves images but keeps each image's own order, which COCO's tie-breaking depends on.</summary>
    private static List<Detection> StableByImage(List<Detection> shuffled, List<Detection> original)
    {
        var queues = original.GroupBy(d => d.ImageId).ToDictionary(g => g.Key, g => new Queue<Detection>(g));
        return shuffled.Select(d => queues[d.ImageId].Dequeue()).ToList();
    }

    private static double BoxArea(Box b) => ((double)b.X2 - b.X1) * ((double)b.Y2 - b.Y1);

    /// <summary>Sides from a few pixels to 200, exactly 32 and 96 now and then; corners on integers, eighths or anywhere.</summary>
    private static Box RandomBox(Random random)
    {
        float Side() => random.Next(8) switch
        {
            0 => 32,
            1 => 96,
            2 or 3 => 2 + 30 * (float)random.NextDouble(),
            4 or 5 => 32 + 64 * (float)random.NextDouble(),
            _ => 96 + 110 * (float)random.NextDouble(),
        };
        var grid = random.Next(3);
        float Snap(float v) => grid switch { 0 => MathF.Round(v), 1 => MathF.Round(v * 8) / 8, _ => v };
        var w = Snap(Side());
        var h = random.NextDouble() < 0.5 ? w : Snap(Side());
        var x = Snap(300 * (float)random.NextDouble());
        var y = Snap(300 * (float)random.NextDouble());
        return new Box(x, y, x + Math.Max(w, 1), y + Math.Max(h, 1));
    }

    /// <summary>A detection near a box: exact, barely moved, or far enough to fall between the IoU thresholds.</summary>
    private static Box Jitter(Random random, Box b)
    {
        if (random.NextDouble() < 0.15) return b;
        var scale = (float)(random.NextDouble() * random.NextDouble()) * 0.5f;
        float Move(float size) => (float)(random.NextDouble() * 2 - 1) * scale * size;
        var w = b.X2 - b.X1;
        var h = b.Y2 - b.Y1;
        var x1 = b.X1 + Move(w);
        var y1 = b.Y1 + Move(h);
        return new Box(x1, y1, Math.Max(x1 + 0.5f, b.X2 + Move(w)), Math.Max(y1 + 0.5f, b.Y2 + Move(h)));
    }
}
