import ArgumentParser

/// The `starling` command line.
public struct StarlingCommand: AsyncParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "starling",
        abstract: "Serve accelerated inference: declare a ModelService, get running replicas.",
        version: version,
        subcommands: [
            UpCommand.self, ApplyCommand.self, GetCommand.self, DescribeCommand.self, DeleteCommand.self,
            ScaleCommand.self, LogsCommand.self, EventsCommand.self, ModelServerCommand.self,
            BenchCommand.self, BenchModelServerCommand.self, GatewayCommand.self, ManifestsCommand.self,
            OperatorCommand.self, AgentCommand.self, DrainCommand.self, BenchPlacementCommand.self,
            BenchSchedulerCommand.self,
            VersionCommand.self,
        ])

    public init() {}

    /// Parses the process arguments and runs the chosen command (the async entry point).
    public static func start() async {
        let command: any AsyncParsableCommand.Type = Self.self
        await command.main()
    }
}
