using Portal.Cli;

return await PortalCli.RunAsync(args, Console.Out, Console.Error, CliConfig.DefaultPath());
