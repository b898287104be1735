Console.WriteLine("usage: Portal.Benchmarks <name>");
