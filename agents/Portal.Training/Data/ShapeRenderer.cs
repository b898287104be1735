namespace Portal.Training.Data;

/// <summary>The shape kinds the synthetic datasets draw; the enum value is the class index.</summary>
public enum ShapeKind { Square = 0, Circle = 1, Triangle = 2, Cross = 3 }

/// <summary>A box in pixels, corners (x1, y1) top-left and (x2, y2) bottom-right.</summary>
public readonly record struct Box(float X1, float Y1, float X2, float Y2)
{
    public float Width => X2 - X1;
    public float Height => Y2 - Y1;
    public float Area => Math.Max(0, Width) * Math.Max(0, Height);

    public static float IoU(Box a, Box b)
    {
        var iw = Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1);
        var ih = Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1);
        if (iw <= 0 || ih <= 0) return 0;
        var inter = iw * ih;
        return inter / (a.Area + b.Area - inter);
    }
}

/// <summary>
/// Draws filled shapes into a CHW float image (values 0..1). Pure C# so that a dataset is a function of its seed
/// alone, on every machine and backend.
/// </summary>
internal static class ShapeRenderer
{
    public static void FillBackground(float[] image, int size, Random random)
    {
        var plane = size * size;
        for (var c = 0; c < 3; c++)
        {
            var baseValue = 0.1f + 0.2f * (float)random.NextDouble();
            for (var i = 0; i < plane; i++) image[c * plane + i] = baseValue + 0.08f * (float)random.NextDouble();
        }
    }

    public static void Draw(float[] image, int size, ShapeKind kind, Box box, ReadOnlySpan<float> color)
    {
        var plane = size * size;
        var cx = (box.X1 + box.X2) / 2;
        var cy = (box.Y1 + box.Y2) / 2;
        var hw = box.Width / 2;
        var hh = box.Height / 2;
        for (var y = (int)box.Y1; y < (int)Math.Ceiling(box.Y2) && y < size; y++)
        for (var x = (int)box.X1; x < (int)Math.Ceiling(box.X2) && x < size; x++)
        {
            // Normalized position inside the box, -1..1 on both axes, at the pixel centre.
            var u = (x + 0.5f - cx) / hw;
            var v = (y + 0.5f - cy) / hh;
            var inside = kind switch
            {
                ShapeKind.Square => Math.Abs(u) <= 1 && Math.Abs(v) <= 1,
                ShapeKind.Circle => u * u + v * v <= 1,
                ShapeKind.Triangle => v >= -1 && v <= 1 && Math.Abs(u) <= (v + 1) / 2,
                ShapeKind.Cross => (Math.Abs(u) <= 0.3f && Math.Abs(v) <= 1) || (Math.Abs(v) <= 0.3f && Math.Abs(u) <= 1),
                _ => false,
            };
            if (!inside) continue;
            for (var c = 0; c < 3; c++) image[c * plane + y * size + x] = color[c];
        }
    }

    public static void RandomColor(Random random, Span<float> color)
    {
        // Bright colours on a dark background, so shapes are separable by contrast whatever their hue.
        for (var c = 0; c < 3; c++) color[c] = 0.45f + 0.55f * (float)random.NextDouble();
    }
}
