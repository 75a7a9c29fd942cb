import Foundation

/// The ways cthulhu writes a time for people and file names: all in UTC, the
/// zone of the event log, so that what `events`, `faults`, `nemesis status`
/// and a run's folder name say can be laid side by side.
public enum TimeText {
  /// `07:51:12.345` (`07:51:12` without milliseconds).
  public static func clock(_ date: Date, milliseconds: Bool = true) -> String {
    date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt).time(includingFractionalSeconds: milliseconds))
  }

  /// `07:51:12 UTC`: a time of day as commands print it.
  public static func wall(_ date: Date) -> String { clock(date, milliseconds: false) + " UTC" }

  /// `20261206T075112Z`: for folder names (sorts as time does).
  public static func stamp(_ date: Date) -> String {
    date.formatted(
      Date.ISO8601FormatStyle(dateSeparator: .omitted, timeSeparator: .omitted, timeZone: .gmt).year().month().day()
        .dateTimeSeparator(.standard).time(includingFractionalSeconds: false).timeZone(separator: .omitted))
  }

  /// `2026-12-06T07:51:12.345Z`: the event log's `time`.
  public static func iso(_ date: Date) -> String {
    date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
  }

  /// Reads `iso`'s form, or the same without milliseconds.
  public static func date(iso text: String) -> Date? {
    (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt).parse(text))
      ?? (try? Date.ISO8601FormatStyle(timeZone: .gmt).parse(text))
  }
}
