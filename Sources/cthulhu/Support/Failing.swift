import ArgumentParser
import Orchestrator

/// Runs a command body, turning cthulhu's own errors into one line on stderr
/// and exit code 1 instead of argument-parser's usage dump.
func failing<T>(_ body: () async throws -> T) async throws -> T {
  do {
    return try await body()
  } catch let e as ExitCode {
    throw e
  } catch let e as ValidationError {
    throw e
  } catch let e as CleanExit {
    throw e
  } catch {
    Output.error("error: \(error)")
    throw ExitCode.failure
  }
}
