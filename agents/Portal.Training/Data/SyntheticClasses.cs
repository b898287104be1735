namespace Portal.Training.Data;

/// <summary>
/// The "synthetic-classes" classification dataset: one shape per image, the label is its kind (4 classes),
/// with random size, position, colour and background noise. Image i depends only on (seed, split, i).
/// </summary>
public sealed class SyntheticClasses
{
    public const string DatasetName = "synthetic-classes";
    public const int ClassCount = 4;

    public SyntheticClasses(int seed, string split, int count, int imageSize)
    {
        ImageSize = imageSize;
        var splitSalt = split switch { "train" => 11, "val" => 12, _ => 13 };
        Pixels = new float[count * 3 * imageSize * imageSize];
        Labels = new long[count];
        var plane = 3 * imageSize * imageSize;
        var image = new float[plane];
        Span<float> color = stackalloc float[3];
        for (var i = 0; i < count; i++)
        {
            var random = new Random(Seeds.Mix(seed, splitSalt, i));
            ShapeRenderer.FillBackground(image, imageSize, random);
            var kind = (ShapeKind)random.Next(ClassCount);
            var w = imageSize * (0.35f + 0.4f * (float)random.NextDouble());
            var h = w * (0.8f + 0.4f * (float)random.NextDouble());
            h = Math.Min(h, imageSize - 1);
            var x1 = (float)random.NextDouble() * (imageSize - w);
            var y1 = (float)random.NextDouble() * (imageSize - h);
            ShapeRenderer.RandomColor(random, color);
            ShapeRenderer.Draw(image, imageSize, kind, new Box(x1, y1, x1 + w, y1 + h), color);
            image.CopyTo(Pixels, i * plane);
            Labels[i] = (long)kind;
        }
    }

    public int ImageSize { get; }
    public int Count => Labels.Length;
    public float[] Pixels { get; }
    public long[] Labels { get; }
}
