import Manifest

/// libFuzzer's entry point: any bytes go through libyaml, the node tree, the
/// decoder and the validator, and any error is rendered (line, caret) as the
/// CLI would. A crash, a trap, a leak the sanitizer sees or a hang is a bug;
/// a thrown ``ManifestErrors`` is the expected outcome for most inputs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
  do {
    _ = try ManifestLoader.load(bytes: bytes, path: "/nonexistent-fuzz/m.yaml")
  } catch {
    _ = error.render()
  }
  return 0
}

/// SwiftPM links an executable target with its entry point renamed to
/// `<Target>_main` (so tests can link it); hand that entry point to
/// libFuzzer's driver, which then parses the command line (corpus folders,
/// -max_total_time, …) as its own `main` would.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(
  _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("ManifestFuzzer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  var argc = argc
  var argv = argv
  return runDriver(&argc, &argv, fuzzOneInput)
}
