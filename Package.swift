// swift-tools-version:6.2
import PackageDescription

/// Upcoming features enabled once for every target.
let swiftSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
  name: "cthulhu",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "cthulhu", targets: ["cthulhu"]),
    .library(name: "Manifest", targets: ["Manifest"]),
    .library(name: "Orchestrator", targets: ["Orchestrator"]),
    .library(name: "History", targets: ["History"]),
    .library(name: "Runner", targets: ["Runner"]),
    .executable(name: "cthulhu-demo", targets: ["cthulhu-demo"]),
  ],
  dependencies: [
    // Command-line parsing, help and validation errors (saves a hand-written parser).
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    // Jinja-like templates, the successor of the original tool's Jinja2.
    .package(url: "https://github.com/stencilproject/Stencil.git", from: "0.15.1"),
    // HTTP/1.1 over the Docker unix socket (http+unix://), streaming bodies.
    .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    // ByteBuffer and HTTP types that AsyncHTTPClient's API speaks in.
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
  ],
  targets: [
    .systemLibrary(
      name: "CYaml",
      pkgConfig: "yaml-0.1",
      providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]
    ),
    // SHA-256 for spec and file hashes from the system's libcrypto (OpenSSL;
    // Foundation on Linux has no CryptoKit). swift-crypto did this by
    // compiling its own copy of BoringSSL, 359 C files beside the copy
    // AsyncHTTPClient's TLS already builds: a fifth of the compile units of every build.
    .systemLibrary(
      name: "COpenSSL",
      pkgConfig: "libcrypto",
      providers: [.apt(["libssl-dev"]), .brew(["openssl"])]
    ),
    // libnetfilter_queue: the packet delayer behind `delay` on kernels without sch_netem.
    .systemLibrary(
      name: "CNetfilterQueue",
      pkgConfig: "libnetfilter_queue",
      providers: [.apt(["libnetfilter-queue-dev"])]
    ),
    // libfuse 3 (high-level API): the file-system layer behind disk faults
    // (`cthulhu _disk`, DiskLayer), which keeps its own record of what was fsynced.
    .systemLibrary(
      name: "CFuse",
      pkgConfig: "fuse3",
      providers: [.apt(["libfuse3-dev"])]
    ),
    // POSIX named semaphores and shared memory (sem_open is variadic): the
    // libfaketime state cthulhu makes for each clock_skew instance of the process driver.
    .systemLibrary(name: "CPosix"),
    .target(
      name: "Manifest",
      dependencies: ["CYaml"],
      swiftSettings: swiftSettings
    ),
    .target(
      name: "Orchestrator",
      dependencies: [
        "Manifest",
        .target(name: "CNetfilterQueue", condition: .when(platforms: [.linux])),
        .target(name: "CPosix", condition: .when(platforms: [.linux])),
        .product(name: "Stencil", package: "Stencil"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        "COpenSSL",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        // Only for the type of a failed connection (`NIOConnectionError`).
        .product(name: "NIOPosix", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings
    ),
    // Histories of client operations: the JSON Lines format, recording, and the
    // linearizability checker. Its own target because it needs nothing but
    // Foundation: a test suite or tool can check histories without pulling in
    // the orchestrator's engine clients, and it builds and tests on its own.
    .target(name: "History", swiftSettings: swiftSettings),
    // `cthulhu test`: workers driving client processes, generators, the
    // nemesis during the run, the results folder. Its own target because it
    // joins the three below it (the fixture, the manifest's workloads, the
    // history and its checkers) and nothing below may depend on that join;
    // the CLI only parses and renders around it.
    // The disk layer (`cthulhu _disk`) in a target of its own: libfuse's
    // headers declare `struct stat` again, and a module that imports CFuse
    // sees that declaration wherever it writes `stat`; kept out of the rest.
    .target(
      name: "DiskLayer",
      dependencies: ["Manifest", "Orchestrator", .target(name: "CFuse", condition: .when(platforms: [.linux]))],
      swiftSettings: swiftSettings
    ),
    .target(name: "Runner", dependencies: ["Manifest", "Orchestrator", "History"], swiftSettings: swiftSettings),
    .executableTarget(
      name: "cthulhu",
      dependencies: [
        "Manifest",
        "Orchestrator",
        "History",
        "Runner",
        "DiskLayer",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings
    ),
    // The demo system under test: leader election with a replicated value (docs/demo.md).
    .executableTarget(
      name: "cthulhu-demo",
      dependencies: [
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings
    ),
    // Plan timings against the in-memory engine for bench/run (not part of the tests).
    .executableTarget(name: "cthulhu-bench", dependencies: ["Manifest", "Orchestrator"], swiftSettings: swiftSettings),
    .testTarget(
      name: "DemoTests",
      dependencies: [
        "cthulhu-demo",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "ManifestTests",
      dependencies: ["Manifest"],
      swiftSettings: swiftSettings
    ),
    // What the test targets share: the built binary, program runs, the engine, skip-or-fail.
    .target(name: "TestSupport", dependencies: ["Orchestrator"], path: "Tests/TestSupport", swiftSettings: swiftSettings),
    .testTarget(
      name: "EndToEndTests",
      dependencies: ["cthulhu", "Orchestrator", "Manifest", "History", "TestSupport"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "DockerDriverTests",
      dependencies: [
        "Orchestrator", "Manifest", "TestSupport",
        // The transport errors whose mapping the tests check.
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings),
    // The process driver on the host, and end to end through the built binary.
    .testTarget(
      name: "ProcessDriverTests", dependencies: ["cthulhu", "Orchestrator", "Manifest", "TestSupport"], swiftSettings: swiftSettings),
    // The disk layer through a real FUSE mount (the built `cthulhu _disk`), and its records.
    .testTarget(name: "DiskLayerTests", dependencies: ["cthulhu", "DiskLayer", "Manifest", "Orchestrator", "TestSupport"], swiftSettings: swiftSettings),
    .testTarget(name: "HistoryTests", dependencies: ["History", "TestSupport"], swiftSettings: swiftSettings),
    .testTarget(name: "RunnerTests", dependencies: ["Runner", "Manifest", "Orchestrator", "History", "TestSupport"], swiftSettings: swiftSettings),
    .testTarget(
      name: "OrchestratorTests",
      dependencies: ["Orchestrator", "Manifest", "TestSupport"],
      swiftSettings: swiftSettings
    ),
  ]
)
