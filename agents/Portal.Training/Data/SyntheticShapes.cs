namespace Portal.Training.Data;

public sealed record ShapeObject(ShapeKind Kind, Box Box);

public sealed record ShapeImage(float[] Pixels, IReadOnlyList<ShapeObject> Objects);

/// <summary>
/// The "synthetic-shapes" detection dataset: square images with one to <c>maxObjects</c> shapes of
/// <see cref="ClassCount"/> kinds. Image i of a split depends only on (seed, split, i).
/// </summary>
public sealed class SyntheticShapes
{
    public const string DatasetName = "synthetic-shapes";
    public const int ClassCount = 3;

    public SyntheticShapes(int seed, string split, int count, int imageSize, int maxObjects = 3)
    {
        Split = split;
        ImageSize = imageSize;
        var splitSalt = split switch { "train" => 1, "val" => 2, _ => 3 };
        var images = new ShapeImage[count];
        for (var i = 0; i < count; i++) images[i] = Generate(new Random(Seeds.Mix(seed, splitSalt, i)), imageSize, maxObjects);
        Images = images;
    }

    public string Split { get; }
    public int ImageSize { get; }
    public IReadOnlyList<ShapeImage> Images { get; }

    private static ShapeImage Generate(Random random, int size, int maxObjects)
    {
        var pixels = new float[3 * size * size];
        ShapeRenderer.FillBackground(pixels, size, random);
        var objects = new List<ShapeObject>();
        var count = 1 + random.Next(maxObjects);
        Span<float> color = stackalloc float[3];
        for (var attempt = 0; attempt < 30 && objects.Count < count; attempt++)
        {
            var w = size * (0.18f + 0.22f * (float)random.NextDouble());
            var h = w * (0.8f + 0.4f * (float)random.NextDouble());
            var x1 = (float)random.NextDouble() * (size - w);
            var y1 = (float)random.NextDouble() * (size - h);
            var box = new Box(MathF.Round(x1), MathF.Round(y1), MathF.Round(x1 + w), MathF.Round(y1 + h));
            // Overlapping shapes would hide each other; keep them apart so every label is visible.
            if (objects.Any(o => Box.IoU(o.Box, box) > 0 || Overlaps(o.Box, box))) continue;
            var kind = (ShapeKind)random.Next(ClassCount);
            ShapeRenderer.RandomColor(random, color);
            ShapeRenderer.Draw(pixels, size, kind, box, color);
            objects.Add(new ShapeObject(kind, box));
        }
        return new ShapeImage(pixels, objects);
    }

    private static bool Overlaps(Box a, Box b) => a.X1 < b.X2 + 1 && b.X1 < a.X2 + 1 && a.Y1 < b.Y2 + 1 && b.Y1 < a.Y2 + 1;
}
