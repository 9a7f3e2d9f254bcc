import Glibc

/// Creates a folder and any missing parents with an explicit mode (0700 by default), whatever
/// the umask. Folders that already exist are left as they are: they are the operator's.
public enum PrivateFolder {
    public static func create(_ path: String, mode: mode_t = 0o700) throws(FileWriteError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if mkdir(prefix, mode) == 0 {
                // mkdir's mode went through the umask; set it through a descriptor of the folder
                // just made, so a symlink swapped in meanwhile is not followed.
                let fd = open(prefix, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard fd >= 0 else { throw FileWriteError(operation: "open", path: prefix, errno: errno) }
                defer { close(fd) }
                guard fchmod(fd, mode) == 0 else {
                    throw FileWriteError(operation: "fchmod", path: prefix, errno: errno)
                }
            } else if errno != EEXIST {
                throw FileWriteError(operation: "mkdir", path: prefix, errno: errno)
            } else if !isFolder(prefix) {
                throw FileWriteError(operation: "mkdir", path: prefix, errno: ENOTDIR)
            }
            prefix += "/"
        }
    }

    /// A folder, or a symbolic link to one (an operator's choice of where things live).
    private static func isFolder(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
    }
}
