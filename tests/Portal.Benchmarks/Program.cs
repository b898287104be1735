using System.Reflection;
using Portal.Benchmarks;

// Each benchmark is a class implementing IBenchmark; they are found by reflection so that
// adding one needs no change here. Usage: dotnet run -c Release --project tests/Portal.Benchmarks -- <name> [args]
var benchmarks = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name)
    .ToList();

if (args.Length == 0 || benchmarks.All(b => b.Name != args[0]))
{
    Console.WriteLine("usage: Portal.Benchmarks <name> [args]");
    foreach (var b in benchmarks) Console.WriteLine($"  {b.Name,-16} {b.Description}");
    return args.Length == 0 ? 0 : 2;
}

return await benchmarks.First(b => b.Name == args[0]).RunAsync(args[1..]);
