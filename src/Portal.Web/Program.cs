using Portal.Web;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    WebRootPath = WebRootLocator.Find(args),
});

builder.AddPortal();

var app = builder.Build();
if (args.Contains(Portal.Web.Features.Demo.DemoCredentials.DeactivateCommand))
    return await Portal.Web.Features.Demo.DemoCredentials.DeactivateAsync(app.Services);
app.UsePortal();
app.Run();
return 0;

public partial class Program;
