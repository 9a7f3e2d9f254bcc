/// The release this build is: printed by `neighsyncd --version`, named in the first NOTICE line
/// at start and in `neighsyncd_build_info`, and the .deb's version (`scripts/package` asks the
/// binary). Raised by hand with each release.
public enum NeighsyncdVersion {
    public static let current = "0.13.0"
}
