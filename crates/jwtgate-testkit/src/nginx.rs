//! A real nginx for tests and benchmarks: Debian's `nginx` binary run in
//! the foreground as a child process, on 127.0.0.1, with its whole state
//! (configuration, pid, logs, temporary files) in one directory; stopped
//! when dropped.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nginx.
#[derive(Debug)]
pub struct Nginx {
    child: Child,
    port: u16,
    dir: PathBuf,
}

/// Where nginx is: `PATH`, else Debian's `/usr/sbin` (not on a normal
/// user's `PATH`).
fn binary() -> Option<PathBuf> {
    let works = |path: &Path| Command::new(path).arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    [PathBuf::from("nginx"), PathBuf::from("/usr/sbin/nginx")].into_iter().find(|p| works(p))
}

/// For tests: nginx serving `server_body` (the inside of a `server { }`
/// block, without `listen`), or `None` with the reason printed when nginx
/// is not installed. Where `JWTGATE_REQUIRE_NGINX` is set (CI, which
/// installs it), a missing nginx is a failure instead.
///
/// # Panics
///
/// When nginx is required and missing, or installed but not starting.
#[must_use]
#[allow(clippy::panic, reason = "a test helper: a required server that is missing fails the test")]
pub fn for_test(dir: &Path, server_body: &str) -> Option<Nginx> {
    if binary().is_none() && std::env::var_os("JWTGATE_REQUIRE_NGINX").is_none() {
        eprintln!("skipped: nginx is not installed (Debian: apt-get install nginx-light)");
        return None;
    }
    match Nginx::start(dir, "", server_body) {
        Ok(nginx) => Some(nginx),
        Err(e) => panic!("{e}"),
    }
}

impl Nginx {
    /// Writes `dir/nginx.conf` around `http_extra` (directives of the
    /// `http` block, such as an `upstream` with `keepalive`) and
    /// `server_body`, starts nginx (one worker per core) on a free port of
    /// 127.0.0.1 and waits until it accepts connections (at most 10 s).
    ///
    /// # Errors
    ///
    /// A message: nginx missing, the configuration refused (with nginx's
    /// own words from its error log), or no answer in time.
    pub fn start(dir: &Path, http_extra: &str, server_body: &str) -> Result<Self, String> {
        let nginx = binary().ok_or("nginx is not installed (Debian: apt-get install nginx-light)")?;
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let d = dir.display();
        // As root, nginx would run its workers as `nobody`, which cannot
        // write in a test's private directory.
        let user = if is_root() { "user root;" } else { "" };
        let config = format!(
            "{user}\nworker_processes auto;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n access_log off;\n{http_extra}\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n\
             server {{\n listen 127.0.0.1:{port};\n{server_body}\n }}\n}}\n"
        );
        std::fs::create_dir_all(dir).map_err(|e| format!("{d}: {e}"))?;
        let path = dir.join("nginx.conf");
        std::fs::write(&path, config).map_err(|e| format!("{}: {e}", path.display()))?;
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("nginx did not start: {e}"))?;
        let mut server = Self { child, port, dir: dir.to_path_buf() };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("nginx exited ({status}): {}", server.error_log()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("nginx did not answer on port {port} within 10 s: {}", server.error_log()))
    }

    /// The port it listens on.
    #[must_use]
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    #[must_use]
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The master process's id (its workers are its children).
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What nginx wrote to its error log so far.
    #[must_use]
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    /// SIGTERM, not SIGKILL: a killed master leaves its worker running,
    /// and holding the port.
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}
