using Portal.Agent;

// Usage: Portal.Agent --portal URL --token T [--name N] [--data DIR] [--max-jobs 1] [--device auto|cpu|cuda] [--libtorch DIR]
// The same settings come from appsettings.json ("Agent" section) and PORTAL_AGENT_* environment variables.
// Or: Portal.Agent compare --recipe yolov4-tiny --reference DIR [--json]: the differential comparison, without a portal.
if (args is ["compare", ..]) return CompareCommand.Run(args, Console.Out, Console.Error);

var builder = Host.CreateApplicationBuilder(args);
builder.Configuration.AddEnvironmentVariables("PORTAL_AGENT_");
builder.Configuration.AddCommandLine(args, AgentCommandLine.Switches);
builder.Services.AddOptions<AgentOptions>().Bind(builder.Configuration.GetSection(AgentOptions.Section));
builder.Services.AddHostedService<AgentWorker>();
builder.Build().Run();
return 0;
