namespace Portal.Training.Data;

/// <summary>Deterministic seed mixing (HashCode is randomized per process, so it cannot be used here).</summary>
public static class Seeds
{
    public static int Mix(long a, long b, long c)
    {
        // SplitMix64 finalizer over the three inputs.
        ulong x = (ulong)a * 0x9E3779B97F4A7C15UL ^ (ulong)b * 0xBF58476D1CE4E5B9UL ^ (ulong)c * 0x94D049BB133111EBUL;
        x ^= x >> 30; x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 27; x *= 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return (int)(x & 0x7fffffff);
    }
}
