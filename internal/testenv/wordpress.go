package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// WordPressSite is a throw-away WordPress of one test, installed from
// Debian's wordpress package as in shared/recipes/wordpress.md: a private
// copy of /usr/share/wordpress served by PHP's built-in server, its own
// database on a MariaDB server, an administrator with an application
// password, pretty permalinks on.
type WordPressSite struct {
	URL           string // http://127.0.0.1:PORT, exactly as WP_HOME (not localhost)
	Admin         string // the administrator's login, "admin"
	AdminPassword string // the administrator's login password
	AdminEmail    string // admin@example.org
	AppPassword   string // the administrator's application password (REST, Basic auth)
	Dir           string // the site's directory: www/, database files, logs

	t      testing.TB
	php    string
	mysql  string // the mariadb client
	admCnf string // client options file reaching the server as root
	dbName string
	shared bool // the database lives on a server we did not start
	port   int

	mu      sync.Mutex
	server  *exec.Cmd // php -S
	served  chan struct{}
	mariadb *exec.Cmd // our own mariadbd, nil on a shared server
	dbDone  chan struct{}
}

// wpConfig is the site's wp-config.php (Debian's reads /etc/wordpress,
// which a test must not touch).
const wpConfig = `<?php
define('DB_NAME', 'DBNAME'); define('DB_USER', 'DBNAME'); define('DB_PASSWORD', 'DBPASS');
define('DB_HOST', '127.0.0.1:DBPORT'); define('DB_CHARSET', 'utf8mb4'); define('DB_COLLATE', '');
$table_prefix = 'wp_';
foreach (['AUTH_KEY','SECURE_AUTH_KEY','LOGGED_IN_KEY','NONCE_KEY','AUTH_SALT','SECURE_AUTH_SALT','LOGGED_IN_SALT','NONCE_SALT'] as $k) define($k, 'DBPASS-' . $k);
define('WP_HOME', 'SITEURL'); define('WP_SITEURL', 'SITEURL');
define('WP_ENVIRONMENT_TYPE', 'local');   // application passwords over plain http
define('WP_HTTP_BLOCK_EXTERNAL', true);   // no calls to wordpress.org
define('AUTOMATIC_UPDATER_DISABLED', true); define('DISABLE_WP_CRON', true);
define('WP_DEBUG', true); define('WP_DEBUG_DISPLAY', false); define('WP_DEBUG_LOG', __DIR__ . '/debug.log');
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
`

// wpInstall installs the site and prints the administrator's application
// password.
const wpInstall = `<?php
[, $dir, $login, $pass, $email] = $argv;
define('WP_INSTALLING', true);
require $dir . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
add_filter('pre_wp_mail', '__return_false');   // no sendmail here
$r = wp_install('sesame test', $login, $email, true, '', wp_slash($pass));
update_option('permalink_structure', '/%postname%/'); flush_rewrite_rules(true);   // enables /wp-json/
[$app] = WP_Application_Passwords::create_new_application_password($r['user_id'], ['name' => 'sesame-tests']);
echo $app, "\n";
`

// WordPress starts a fresh WordPress for t, stopped and removed when the
// test ends. It needs Debian's wordpress, php8.2-cli, php8.2-mysql and
// mariadb-server packages (scripts/test installs them); without them the
// test is skipped, or fails when SESAME_REQUIRE_SERVICES=1.
//
// The database goes to the MariaDB server already answering on this machine
// (as root through its default socket, or as root without a password on
// 127.0.0.1:3306), where the site gets a database and user of its own that
// are dropped at the end; otherwise, or when SESAME_TEST_WORDPRESS_DB is
// "private", a private mariadbd is started in the site's directory.
func WordPress(t testing.TB) *WordPressSite {
	t.Helper()
	php, ok := LookBinary("php")
	if !ok {
		Missing(t, "php is not installed (apt-get install php8.2-cli php8.2-mysql)")
	}
	mysql, ok := LookBinary("mariadb")
	if !ok {
		Missing(t, "the mariadb client is not installed (apt-get install mariadb-server)")
	}
	if _, err := os.Stat("/usr/share/wordpress/wp-settings.php"); err != nil {
		Missing(t, "Debian's wordpress package is not installed (apt-get install wordpress)")
	}
	if err := exec.Command(php, "-r", `exit(extension_loaded("mysqli") ? 0 : 1);`).Run(); err != nil {
		Missing(t, "PHP has no mysqli extension (apt-get install php8.2-mysql)")
	}
	w := &WordPressSite{t: t, php: php, mysql: mysql, Admin: "admin", AdminPassword: "admin-pass-123", AdminEmail: "admin@example.org"}
	w.Dir = wordpressDir(t)
	t.Cleanup(w.destroy)
	w.admCnf = filepath.Join(w.Dir, "admin.cnf")
	w.dbName = "wp_" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, filepath.Base(w.Dir))

	dbPort := w.startDatabase()
	dbPass := randomHex(t, 12)
	w.sql(fmt.Sprintf("CREATE DATABASE `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; "+
		"CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s'; GRANT ALL ON `%s`.* TO '%s'@'127.0.0.1';",
		w.dbName, w.dbName, dbPass, w.dbName, w.dbName))

	w.port = FreePort(t)
	w.URL = fmt.Sprintf("http://127.0.0.1:%d", w.port)
	www := filepath.Join(w.Dir, "www")
	if out, err := exec.Command("cp", "-a", "/usr/share/wordpress", www).CombinedOutput(); err != nil {
		t.Fatalf("testenv: copy wordpress: %v\n%s", err, out)
	}
	cfg := strings.NewReplacer("DBNAME", w.dbName, "DBPASS", dbPass, "DBPORT", strconv.Itoa(dbPort), "SITEURL", w.URL).Replace(wpConfig)
	_ = os.Remove(filepath.Join(www, "wp-config.php"))
	if err := os.WriteFile(filepath.Join(www, "wp-config.php"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	install := filepath.Join(w.Dir, "install.php")
	if err := os.WriteFile(install, []byte(wpInstall), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(php, install, www, w.Admin, w.AdminPassword, w.AdminEmail)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("testenv: wordpress install: %v\n%s%s", err, out, stderr.String())
	}
	w.AppPassword = strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(w.AppPassword, '\n'); i >= 0 {
		w.AppPassword = w.AppPassword[i+1:]
	}
	if len(w.AppPassword) != 24 {
		t.Fatalf("testenv: wordpress install printed no application password: %q\n%s", out, stderr.String())
	}
	w.Start()
	return w
}

// wordpressDir makes the site's directory, on /dev/shm when it is there
// (installing and serving from memory takes about a second, against up to
// four from a disk), with a short path for the database's socket.
func wordpressDir(t testing.TB) string {
	t.Helper()
	base := ""
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", "sesame-probe"); err == nil {
			f.Close()
			os.Remove(f.Name())
			base = "/dev/shm"
		}
	}
	d, err := os.MkdirTemp(base, "wptest")
	if err != nil {
		t.Fatalf("testenv: wordpress dir: %v", err)
	}
	return d
}

// startDatabase finds or starts the MariaDB server and returns its TCP port.
func (w *WordPressSite) startDatabase() int {
	t := w.t
	t.Helper()
	if os.Getenv("SESAME_TEST_WORDPRESS_DB") != "private" {
		for _, cnf := range []string{"[client]\nuser=root\n", "[client]\nuser=root\nhost=127.0.0.1\nport=3306\n"} {
			if err := os.WriteFile(w.admCnf, []byte(cnf), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(w.mysql, "--defaults-extra-file="+w.admCnf, "-N", "-e", "SELECT @@port").Output()
			if err != nil {
				continue
			}
			port, err := strconv.Atoi(strings.TrimSpace(string(out)))
			if err != nil {
				continue
			}
			w.shared = true
			return port
		}
	}
	installDB, ok := LookBinary("mariadb-install-db", "/usr/bin", "/usr/sbin")
	if !ok {
		Missing(t, "mariadb-install-db is not installed (apt-get install mariadb-server)")
	}
	mariadbd, ok := LookBinary("mariadbd", "/usr/sbin")
	if !ok {
		Missing(t, "mariadbd is not installed (apt-get install mariadb-server)")
	}
	var asRoot []string
	if os.Getuid() == 0 {
		asRoot = []string{"--user=root"} // mariadbd refuses to run as root without it
	}
	data := filepath.Join(w.Dir, "db")
	args := append([]string{"--no-defaults"}, asRoot...)
	args = append(args, "--datadir="+data, "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve")
	if out, err := exec.Command(installDB, args...).CombinedOutput(); err != nil {
		t.Fatalf("testenv: mariadb-install-db: %v\n%s", err, out)
	}
	port := FreePort(t)
	sock := filepath.Join(w.Dir, "mysql.sock")
	args = append([]string{"--no-defaults"}, asRoot...)
	args = append(args, "--datadir="+data, fmt.Sprintf("--port=%d", port), "--bind-address=127.0.0.1",
		"--socket="+sock, "--pid-file="+filepath.Join(w.Dir, "mysqld.pid"), "--skip-name-resolve",
		"--log-error="+filepath.Join(w.Dir, "mysqld.err"),
		// A throw-away database: no flush at each commit.
		"--innodb-flush-log-at-trx-commit=0")
	cmd := exec.Command(mariadbd, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: start mariadbd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	w.mariadb, w.dbDone = cmd, done
	if err := os.WriteFile(w.admCnf, []byte("[client]\nuser=root\nsocket="+sock+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := exec.Command(w.mysql, "--defaults-extra-file="+w.admCnf, "-e", "SELECT 1").Run()
		if err == nil {
			return port
		}
		select {
		case <-done:
			logs, _ := os.ReadFile(filepath.Join(w.Dir, "mysqld.err"))
			t.Fatalf("testenv: mariadbd exited at start\n%s", logs)
		default:
		}
		if time.Now().After(deadline) {
			logs, _ := os.ReadFile(filepath.Join(w.Dir, "mysqld.err"))
			t.Fatalf("testenv: mariadbd not answering after 30s: %v\n%s", err, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sql runs statements as the database server's root.
func (w *WordPressSite) sql(statements string) {
	w.t.Helper()
	if out, err := exec.Command(w.mysql, "--defaults-extra-file="+w.admCnf, "-e", statements).CombinedOutput(); err != nil {
		w.t.Fatalf("testenv: mariadb: %v\n%s", err, out)
	}
}

// Start starts PHP's built-in server again after Stop (same port, same
// site). It returns once the REST API answers.
func (w *WordPressSite) Start() {
	w.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.server != nil {
		return
	}
	logf, err := os.OpenFile(filepath.Join(w.Dir, "php-server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		w.t.Fatal(err)
	}
	defer logf.Close()
	// One worker: killing php -S with PHP_CLI_SERVER_WORKERS leaves the
	// workers listening. Its own process group, so Stop kills all of it.
	cmd := exec.Command(w.php, "-S", fmt.Sprintf("127.0.0.1:%d", w.port), "-t", filepath.Join(w.Dir, "www"))
	cmd.Env = append(os.Environ(), "PHP_CLI_SERVER_WORKERS=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.t.Fatalf("testenv: start php -S: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	client := &http.Client{Timeout: 2 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := client.Get(w.URL + "/?rest_route=/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			logs, _ := os.ReadFile(filepath.Join(w.Dir, "php-server.log"))
			w.t.Fatalf("testenv: wordpress not answering after 15s: %v\n%s", err, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.server, w.served = cmd, done
}

// Stop kills PHP's built-in server (the database stays up): connections to
// URL are then refused until Start.
func (w *WordPressSite) Stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.server == nil {
		return
	}
	_ = syscall.Kill(-w.server.Process.Pid, syscall.SIGKILL)
	<-w.served
	w.server, w.served = nil, nil
}

// PHP runs code with WordPress loaded (after wp-load.php, as a command-line
// script) and returns what it printed.
func (w *WordPressSite) PHP(code string) string {
	w.t.Helper()
	prelude := "require " + phpQuote(filepath.Join(w.Dir, "www", "wp-load.php")) + "; "
	var stderr bytes.Buffer
	cmd := exec.Command(w.php, "-d", "display_errors=stderr", "-r", prelude+code)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		w.t.Fatalf("testenv: wordpress php: %v\n%s%s", err, out, stderr.String())
	}
	return string(out)
}

// SetPrettyPermalinks turns pretty permalinks on (/%postname%/, the
// install's setting: /wp-json/ routes work) or off (the REST API is then
// reachable only with ?rest_route=, and POST /wp-json/... answers 200 with
// an empty body, creating nothing).
func (w *WordPressSite) SetPrettyPermalinks(on bool) {
	w.t.Helper()
	structure := ""
	if on {
		structure = "/%postname%/"
	}
	w.PHP("global $wp_rewrite; $wp_rewrite->set_permalink_structure(" + phpQuote(structure) + "); flush_rewrite_rules(true);")
}

// UserCount returns how many users the site has.
func (w *WordPressSite) UserCount() int {
	w.t.Helper()
	out := strings.TrimSpace(w.PHP("echo count_users()['total_users'];"))
	n, err := strconv.Atoi(out)
	if err != nil {
		w.t.Fatalf("testenv: wordpress user count %q: %v", out, err)
	}
	return n
}

// CreateUser adds a user with one role (as an administrator would in
// wp-admin, without sesame) and returns an application password for it.
func (w *WordPressSite) CreateUser(login, email, role string) (appPassword string) {
	w.t.Helper()
	code := fmt.Sprintf(`$id = wp_insert_user(['user_login' => %s, 'user_email' => %s, 'user_pass' => wp_generate_password(), 'role' => %s]);
if (is_wp_error($id)) { fwrite(STDERR, $id->get_error_message()); exit(1); }
[$app] = WP_Application_Passwords::create_new_application_password($id, ['name' => 'test']);
echo $app;`, phpQuote(login), phpQuote(email), phpQuote(role))
	return strings.TrimSpace(w.PHP(code))
}

// destroy stops both servers and removes the site (on a shared database
// server, only the database and user it made).
func (w *WordPressSite) destroy() {
	w.Stop()
	if w.shared {
		_ = exec.Command(w.mysql, "--defaults-extra-file="+w.admCnf, "-e",
			fmt.Sprintf("DROP DATABASE IF EXISTS `%s`; DROP USER IF EXISTS '%s'@'127.0.0.1';", w.dbName, w.dbName)).Run()
	}
	if w.mariadb != nil {
		// The data is thrown away: no clean shutdown needed.
		_ = syscall.Kill(-w.mariadb.Process.Pid, syscall.SIGKILL)
		<-w.dbDone
	}
	_ = os.RemoveAll(w.Dir)
}

// phpQuote is s as a single-quoted PHP string literal.
func phpQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
