// swift-tools-version:6.2
// A libFuzzer target over the YAML loader and manifest decoder, kept in its own
// package so that the normal `swift build` never needs -sanitize=fuzzer.
// Build and run it with scripts/fuzz.sh.
import PackageDescription

let package = Package(
  name: "cthulhu-fuzz",
  platforms: [.macOS(.v15)],
  dependencies: [.package(name: "cthulhu", path: "..")],
  targets: [
    .executableTarget(
      name: "ManifestFuzzer",
      dependencies: [.product(name: "Manifest", package: "cthulhu")]
    )
  ]
)
