//! A real `redis-server` for tests and demos: a child process on
//! 127.0.0.1, on a free port, in its own temporary directory, with
//! append-only persistence fsynced on every write (so a crash loses no
//! acknowledged write), killed when dropped.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running (or crashed, see [`RedisServer::crash`]) `redis-server`.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

/// Why there is no server.
#[derive(Debug)]
pub enum Unavailable {
    /// `redis-server` is not on `PATH`.
    NotInstalled,
    /// It is, but did not start or answer.
    DidNotStart(String),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotInstalled => f.write_str("redis-server is not on PATH (Debian: apt-get install redis-server)"),
            Self::DidNotStart(why) => write!(f, "redis-server did not start: {why}"),
        }
    }
}

impl std::error::Error for Unavailable {}

/// For tests: a server, or `None` with the reason printed when
/// `redis-server` is not installed. Where `JWTGATE_REQUIRE_REDIS` is set
/// (CI, which installs it), a missing server is a failure instead.
///
/// # Panics
///
/// When the server is required and missing, or installed but not starting.
#[must_use]
#[allow(clippy::panic, reason = "a test helper: a required server that is missing fails the test")]
pub fn for_test(dir: &Path) -> Option<RedisServer> {
    match RedisServer::start(dir) {
        Ok(server) => Some(server),
        Err(Unavailable::NotInstalled) if std::env::var_os("JWTGATE_REQUIRE_REDIS").is_none() => {
            eprintln!("skipped: {}", Unavailable::NotInstalled);
            None
        }
        Err(e) => panic!("{e}"),
    }
}

impl RedisServer {
    /// Starts a server keeping its data in `dir` (made if missing).
    ///
    /// # Errors
    ///
    /// [`Unavailable`].
    pub fn start(dir: &Path) -> Result<Self, Unavailable> {
        if Command::new("redis-server").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
            return Err(Unavailable::NotInstalled);
        }
        std::fs::create_dir_all(dir).map_err(|e| Unavailable::DidNotStart(format!("{}: {e}", dir.display())))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| Unavailable::DidNotStart(e.to_string()))?
            .port();
        let mut server = Self { child: None, port, dir: dir.to_path_buf() };
        server.restart()?;
        Ok(server)
    }

    /// The port it listens on.
    #[must_use]
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT/`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Starts it again (after [`crash`](Self::crash)) on the same port and
    /// data, and waits until it answers `PING` (at most 10 s).
    ///
    /// # Errors
    ///
    /// [`Unavailable::DidNotStart`].
    pub fn restart(&mut self) -> Result<(), Unavailable> {
        self.crash();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(self.dir.join("redis.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Unavailable::DidNotStart(e.to_string()))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.ping() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.crash();
        Err(Unavailable::DidNotStart(format!(
            "no answer on port {} within 10 s (see {})",
            self.port,
            self.dir.join("redis.log").display()
        )))
    }

    /// Kills it with SIGKILL: a crash, nothing saved on the way out.
    pub fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `command` (inline protocol, one line) and returns the first
    /// line of the answer.
    ///
    /// # Errors
    ///
    /// The connection failed.
    pub fn command(&self, command: &str) -> std::io::Result<String> {
        let mut conn = TcpStream::connect(("127.0.0.1", self.port))?;
        conn.set_read_timeout(Some(Duration::from_secs(5)))?;
        conn.write_all(format!("{command}\r\n").as_bytes())?;
        let mut buf = [0u8; 512];
        let n = conn.read(&mut buf)?;
        let text = String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned();
        Ok(text.lines().next().unwrap_or_default().to_owned())
    }

    fn ping(&self) -> bool {
        self.command("PING").is_ok_and(|answer| answer == "+PONG")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.crash();
    }
}
