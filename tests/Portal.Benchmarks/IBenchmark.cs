namespace Portal.Benchmarks;

public interface IBenchmark
{
    string Name { get; }
    string Description { get; }
    Task<int> RunAsync(string[] args);
}
