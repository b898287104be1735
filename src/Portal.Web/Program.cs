using Portal.Web;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    WebRootPath = WebRootLocator.Find(args),
});

builder.AddPortal();

var app = builder.Build();
app.UsePortal();
app.Run();

public partial class Program;
