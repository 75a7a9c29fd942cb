/// What runs once `results.json` is written: the properties the system
/// stated about itself (`CTHULHU_ASSERTIONS`, read from
/// ``RunFolder/assertions``) and `report.html`. Returns the results with
/// `properties` filled (and `valid` made false by a failed one); when they
/// differ from what was written, the runner writes results.json and
/// junit.xml again.
///
/// The hook for the properties and the report: today it adds nothing.
public enum AfterResults {
  public static func run(folder: RunFolder, results: RunResults) throws -> RunResults {
    results
  }
}
