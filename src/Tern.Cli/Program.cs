using Tern.Cli;

return TernCommandLine.Build().Parse(args).Invoke();
