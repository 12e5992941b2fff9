// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6)
]

let package = Package(
    name: "Starling",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "starling", targets: ["starling"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        .target(name: "CStarlingProcess", path: "Sources/CStarlingProcess"),
        .target(
            name: "StarlingAPI",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StarlingManifests",
            dependencies: [
                "StarlingAPI", "StarlingClient", "StarlingControllers", "StarlingGateway",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StarlingClient",
            dependencies: [
                "StarlingAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StarlingServerLimits",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StarlingAPIServer",
            dependencies: [
                "StarlingAPI", "StarlingServerLimits",
                "CSQLite",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StarlingControllers",
            dependencies: [
                "StarlingAPI", "StarlingClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StarlingScheduler",
            dependencies: [
                "StarlingAPI", "StarlingClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StarlingNodeAgent",
            dependencies: [
                "StarlingAPI", "StarlingClient", "CStarlingProcess",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "StarlingTokenizer", swiftSettings: swiftSettings),
        // OpenAI error shape, chat template and hand-built JSON text, shared by the simulator and the gateway.
        .target(name: "StarlingOpenAI", swiftSettings: swiftSettings),
        .target(
            name: "StarlingSimulator",
            dependencies: [
                "StarlingTokenizer", "StarlingOpenAI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StarlingGateway",
            dependencies: [
                "StarlingAPI", "StarlingClient", "StarlingTokenizer", "StarlingOpenAI", "StarlingServerLimits",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StarlingBench",
            dependencies: [
                "StarlingAPI", "StarlingTokenizer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StarlingCLI",
            dependencies: [
                "StarlingAPI", "StarlingClient", "StarlingAPIServer", "StarlingControllers",
                "StarlingScheduler", "StarlingNodeAgent", "StarlingSimulator", "StarlingBench", "StarlingGateway",
                "StarlingServerLimits", "StarlingManifests",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "starling", dependencies: ["StarlingCLI"], swiftSettings: swiftSettings),
        .testTarget(name: "StarlingAPITests", dependencies: ["StarlingAPI"], swiftSettings: swiftSettings),
        .testTarget(
            name: "StarlingClientTests",
            dependencies: ["StarlingClient", "StarlingAPIServer", "StarlingTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StarlingAPIServerTests",
            dependencies: ["StarlingAPIServer", "StarlingClient", "StarlingTestSupport", "StarlingServerLimits"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StarlingControllersTests", dependencies: ["StarlingControllers", "StarlingTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StarlingSchedulerTests", dependencies: ["StarlingScheduler", "StarlingTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StarlingNodeAgentTests", dependencies: ["StarlingNodeAgent", "StarlingTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(name: "StarlingTokenizerTests", dependencies: ["StarlingTokenizer"], swiftSettings: swiftSettings),
        .testTarget(
            name: "StarlingManifestsTests",
            dependencies: ["StarlingManifests", "StarlingClient", "StarlingTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(name: "StarlingOpenAITests", dependencies: ["StarlingOpenAI"], swiftSettings: swiftSettings),
        .testTarget(
            name: "StarlingServerLimitsTests",
            dependencies: [
                "StarlingServerLimits",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Helpers the test targets share (waiting for a condition); not a test target itself.
        .target(
            name: "StarlingTestSupport",
            dependencies: [
                "StarlingAPI", "StarlingAPIServer", "StarlingClient", "StarlingManifests",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/StarlingTestSupport", swiftSettings: swiftSettings),
        .testTarget(
            name: "StarlingSimulatorTests",
            dependencies: [
                "StarlingSimulator", "StarlingTokenizer", "StarlingTestSupport", "StarlingOpenAI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StarlingGatewayTests",
            dependencies: [
                "StarlingGateway", "StarlingSimulator", "StarlingTestSupport", "StarlingServerLimits", "StarlingOpenAI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StarlingBenchTests",
            dependencies: [
                "StarlingBench", "StarlingSimulator", "StarlingTokenizer", "StarlingTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StarlingCLITests",
            dependencies: [
                "StarlingCLI", "StarlingClient", "StarlingSimulator", "StarlingBench", "StarlingGateway",
                "StarlingControllers", "StarlingScheduler", "StarlingNodeAgent", "StarlingServerLimits",
                "StarlingTestSupport", "StarlingManifests",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
