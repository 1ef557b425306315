import FlightlogAgent
import Foundation
import Testing

/// auth.log and syslog forms beyond sshd and PAM (su, sudo, logind, account management, cron, polkit, display managers,
/// xrdp, vsftpd), each on lines copied from a public sample that the case cites. Where a line came without its syslog
/// header (a journal export, an issue that quoted the message), the case says so and a neutral header is put in front.
///
/// Truth: where the source has Filebeat's expected output (`…-expected.json`), the values are Filebeat's and the case
/// says "Filebeat"; every other value was written down by hand from the line before the parser ran on it.
@Suite("Auth forms on public samples")
struct RealAuthFormTests {
    /// One line and what the parser must find: a value, or nil where the field must be absent.
    struct Case: Sendable, CustomTestStringConvertible {
        var line: String
        var fields: [String: String?]
        var source: String

        var testDescription: String { self.line }
    }

    static let wazuh = "https://github.com/wazuh/wazuh/blob"
    static let ossec = "https://github.com/ossec/ossec-hids/blob/7f06fe0d7047e6b6b4ece86f82248660f89c3dbe/contrib"
    static let integrations =
        "https://github.com/elastic/integrations/blob/%@/packages/system/data_stream/auth/_dev/test/pipeline/%@"
    static let beats = "https://github.com/elastic/beats/blob"

    static func integration(_ commit: String, _ file: String) -> String {
        String(format: Self.integrations, commit, file)
    }

    /// A neutral header for a message quoted without its own.
    static let header = "Nov 24 10:00:00 ws-1 "

    static let su: [Case] = [
        Case(
            line: "Apr 27 15:22:23 niban su[234]: BAD SU ger to fwmaster on /dev/ttyp0",
            fields: [
                "action": "su", "outcome": "failure", "user": "ger", "target_user": "fwmaster", "tty": "/dev/ttyp0",
            ],
            source: "\(wazuh)/f7f02134a0558a12c4b2c48750f65eb1bfa698d8/ruleset/testing/tests/su.ini"
        ),
        Case(
            line: "Apr 27 15:22:23 niban su[2921936]: failed: ttyq4 changing from ldap to root",
            fields: ["action": "su", "outcome": "failure", "user": "ldap", "target_user": "root", "tty": "ttyq4"],
            source: "\(wazuh)/f7f02134a0558a12c4b2c48750f65eb1bfa698d8/ruleset/testing/tests/su.ini"
        ),
        Case(
            line: "Apr 22 17:51:51 enigma su: dcid to root on /dev/ttyp1",
            fields: ["action": "su", "outcome": "success", "user": "dcid", "target_user": "root", "tty": "/dev/ttyp1"],
            source: "\(wazuh)/f7f02134a0558a12c4b2c48750f65eb1bfa698d8/ruleset/testing/tests/su.ini"
        ),
        Case(
            line: "Jun 20 17:19:59 dactyl su: FAILED SU (to root) mmoorcro on pts/0",
            fields: ["action": "su", "outcome": "failure", "user": "mmoorcro", "target_user": "root", "tty": "pts/0"],
            source: "\(ossec)/ossec-testing/tests/su.ini"
        ),
        Case(
            line: "Jul 5 00:30:21 lili su[2190]: + pts/4 dcid-root",
            fields: ["action": "su", "outcome": "success", "user": "dcid", "target_user": "root", "tty": "pts/4"],
            source: "\(ossec)/logtesting/16/log"
        ),
        Case(
            line: "Jul 5 12:13:15 lili su[2614]: - pts/6 dcid-root",
            fields: ["action": "su", "outcome": "failure", "user": "dcid", "target_user": "root", "tty": "pts/6"],
            source: "\(ossec)/logtesting/18/log"
        ),
        Case(
            line: "Jul 5 12:13:15 lili su[2614]: Authentication failed for root",
            fields: ["action": "su", "outcome": "failure", "user": nil, "target_user": "root"],
            source: "\(ossec)/logtesting/17/log"
        ),
        Case(
            line: "Jun 30 12:13:36 sed-notebook su[23144]: + /dev/pts/5 sed:root",
            fields: ["action": "su", "outcome": "success", "user": "sed", "target_user": "root", "tty": "/dev/pts/5"],
            source: "https://github.com/elogind/elogind/issues/20"
        ),
    ]

    static let sudo: [Case] = [
        Case(
            line:
                "Dec 30 19:36:11 rheltest sudo: cplummer : TTY=pts/2 ; PWD=/home/cplummer1 ; USER=root ; TSID=0000UM ; COMMAND=/bin/bash",
            fields: [
                "action": "sudo", "outcome": "success", "user": "cplummer", "target_user": "root", "tty": "pts/2",
                "command": "/bin/bash",
            ],
            source: "\(wazuh)/86869f08060dcc574c445f90aed667e1fe231929/ruleset/testing/tests/sudo.ini"
        ),
        Case(
            line:
                "Jun 25 15:51:13 precise32 sudo:     mike : 1 incorrect password attempt ; TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/bin/ls",
            fields: ["action": "sudo", "outcome": "failure", "user": "mike", "target_user": "root"],
            source: "\(wazuh)/86869f08060dcc574c445f90aed667e1fe231929/ruleset/testing/tests/sudo.ini"
        ),
        Case(
            line: "Aug  6 19:42:10 server01 sudo[18432]: alice : PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
            fields: [
                "action": "sudo", "outcome": "success", "user": "alice", "target_user": "root", "tty": nil,
                "command": "/usr/bin/id",
            ],
            source: integration("a6ae714d558128a652c8d1b7538fa03987efd301", "test-sudo-no-tty.log")
        ),
        // A command too long for one line goes on in a second: no outcome of its own (it used to read as a failure).
        Case(
            line: "Feb  9 21:21:02 precise32 sudo:  vagrant : (command continued) '/etc/metricbeat/metricbeat.yml)",
            fields: ["action": "sudo", "user": "vagrant", "outcome": nil],
            source: integration("c81e9fe78b8c969e7b96b4a6486e10b6a9fc3d94", "test-auth-ubuntu1204.log")
        ),
    ]

    static let sessions: [Case] = [
        Case(
            line: "Jul 15 08:35:33 ccpfa02 systemd-logind[1561]: New session 54 of user runtime.",
            fields: ["action": "session_open", "user": "runtime", "session_id": "54"],
            source: "https://github.com/neutrinolabs/xrdp/issues/1631"
        ),
        // Filebeat (debian-12.journal-expected.json): no user. Journal export: header put in front.
        Case(
            line: header + "systemd-logind[316]: Session 8 logged out. Waiting for processes to exit.",
            fields: ["action": "logout", "user": nil, "session_id": "8"],
            source:
                "\(beats)/05202848248f3b8569789e8398c3b7fcc8cb0232/filebeat/module/system/auth/test/debian-12.journal-expected.json"
        ),
        // elogind writing through the kernel's log.
        Case(
            line: "Mar 14 16:16:25 manjaro kernel: elogind[1622]: New session c2 of user devtux.",
            fields: ["action": "session_open", "user": "devtux", "session_id": "c2"],
            source: "https://github.com/elogind/elogind/issues/2"
        ),
        Case(
            line: "Mar 14 16:16:25 manjaro kernel: elogind[1622]: Removed session c1.",
            fields: ["action": "session_close", "session_id": "c1", "user": nil],
            source: "https://github.com/elogind/elogind/issues/2"
        ),
        // Display managers: PAM's session lines under their own services.
        Case(
            line:
                "Mar 14 16:16:25 manjaro sddm-helper[2071]: pam_unix(sddm:session): session opened for user devtux by (uid=0)",
            fields: ["action": "session_open", "user": "devtux", "pam_module": "pam_unix"],
            source: "https://github.com/elogind/elogind/issues/2"
        ),
        Case(
            line:
                "Apr 25 16:11:43 host lightdm: pam_unix(lightdm-autologin:session): session opened for user user(uid=1000) by (uid=0)",
            fields: ["action": "session_open", "user": "user"],
            source: "https://github.com/linuxmint/linuxmint/issues/576"
        ),
        // Quoted with a Spanish journalctl date: header put in front.
        Case(
            line: header
                + "lightdm[1210]: pam_unix(lightdm:session): session opened for user antonio(uid=1000) by antonio(uid=0)",
            fields: ["action": "session_open", "user": "antonio", "target_user": nil],
            source: "https://github.com/ubuntu/lightdm/issues/318"
        ),
        // A PAM line under a `pam:` tag that wraps the real one.
        Case(
            line:
                "Nov  2 13:24:34 melancia pam: gdm-password[1600]: pam_unix(gdm-password:session): session closed for user dcid11",
            fields: ["action": "session_close", "user": "dcid11", "pam_module": "pam_unix"],
            source: "\(ossec)/logtesting/1/log"
        ),
        Case(
            line:
                "Feb 21 14:08:48 ip-10-51-98-26 xrdp-sesman[592]: pam_sss(xrdp-sesman:auth): authentication success; logname= uid=0 euid=0 tty=xrdp-sesman ruser= rhost= user=user.name",
            fields: ["action": "login", "outcome": "success", "user": "user.name", "pam_module": "pam_sss"],
            source: "https://github.com/neutrinolabs/xrdp/issues/2560"
        ),
        Case(
            line:
                "Feb 22 16:45:20 slave22 sshd[2738]: pam_succeed_if(sshd:auth): requirement \"uid >= 1000\" not met by user \"root\"",
            fields: ["user": "root", "pam_module": "pam_succeed_if"],
            source:
                "\(beats)/d13173e2df5cf5681216723b4aa70c3fbfc0d403/filebeat/module/system/auth/test/secure-rhel7.log"
        ),
        // Linux-PAM before 0.99.2: the module in parentheses, the service being the program.
        Case(
            line:
                "May 15 18:02:12 localhost proftpd: (pam_unix) authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=66.232.129.62  user=mark",
            fields: ["outcome": "failure", "user": "mark", "src_ip": "66.232.129.62", "pam_module": "pam_unix"],
            source:
                "https://github.com/fail2ban/fail2ban/blob/deffcbcd1712a3a0cbd79c1da324096ebf36d306/fail2ban/tests/files/logs/pam-generic"
        ),
    ]

    static let accounts: [Case] = [
        // Filebeat (test.log-expected.json at 004c0ce5): groupadd name apache, gid 48; useradd name apache, uid 48, …
        Case(
            line: "Feb 22 11:47:05 localhost groupadd[6991]: new group: name=apache, GID=48",
            fields: ["action": "group_create", "group": "apache", "gid": "48", "user": nil],
            source: "\(beats)/549c1de6e71f2c08cfc41b1363baf0107b4ed6ff/filebeat/module/system/auth/test/test.log"
        ),
        Case(
            line:
                "Feb 22 11:47:05 localhost useradd[6995]: new user: name=apache, UID=48, GID=48, home=/usr/share/httpd, shell=/sbin/nologin",
            fields: [
                "action": "user_create", "outcome": "success", "user": "apache", "target_user": "apache", "uid": "48",
                "gid": "48", "home": "/usr/share/httpd", "shell": "/sbin/nologin",
            ],
            source: "\(beats)/549c1de6e71f2c08cfc41b1363baf0107b4ed6ff/filebeat/module/system/auth/test/test.log"
        ),
        // Journal export (syslog_timestamp, host and pid of the record put back in front).
        Case(
            line:
                "Nov  4 15:09:09 bullseye useradd[19762]: new user: name=systemd-journal-remote, UID=107, GID=113, home=/run/systemd, shell=/usr/sbin/nologin, from=/dev/pts/1",
            fields: [
                "action": "user_create", "target_user": "systemd-journal-remote", "uid": "107", "gid": "113",
                "shell": "/usr/sbin/nologin", "tty": "/dev/pts/1",
            ],
            source: integration("71b3a6e3e9e802eb7f7ca15eb658c9123f31ed55", "test-auth-debian11.json")
        ),
        Case(
            line:
                "Apr 5 16:19:49 niban adduser[16188]: new user: name=port4, uid=12006, gid=0, home=/home/port4, shell=/bin/bash",
            fields: [
                "action": "user_create", "target_user": "port4", "uid": "12006", "gid": "0", "home": "/home/port4",
            ],
            source: "\(ossec)/logtesting/24/log"
        ),
        Case(
            line: "May 21 10:24:54 niban useradd[6070]: new group: name=test, gid=5006",
            fields: ["action": "group_create", "group": "test", "gid": "5006"],
            source: "\(ossec)/logtesting/19/log"
        ),
        Case(
            line: "Feb 24 00:12:02 precise32 groupadd[4480]: group added to /etc/group: name=tsg, GID=1003",
            fields: ["action": "group_create", "group": "tsg", "gid": "1003"],
            source: integration("c81e9fe78b8c969e7b96b4a6486e10b6a9fc3d94", "test-auth-ubuntu1204.log")
        ),
        Case(
            line: "Jul  1 10:56:50 host1 groupadd[3829308]: group added to /etc/gshadow: name=fleet",
            fields: ["action": "group_create", "group": "fleet", "gid": nil],
            source: integration("6b95580248df4b5f97743e049a9c51c18f6c706d", "test-groupdel.log")
        ),
        Case(
            line: "Jul  1 11:05:59 host1 groupdel[3870987]: group 'fleet' removed from /etc/gshadow",
            fields: ["action": "group_delete", "group": "fleet"],
            source: integration("6b95580248df4b5f97743e049a9c51c18f6c706d", "test-groupdel.log")
        ),
        Case(
            line: "2026-08-20T10:08:25.000000+00:00 host01 groupdel[2849001]: group 'testgroup' removed",
            fields: ["action": "group_delete", "group": "testgroup"],
            source: integration("67c4b88149d0a662975aa60d898e9f6f9db46142", "test-iam-systemctl.log")
        ),
        Case(
            line:
                "2026-08-20T10:08:02.000000+00:00 host01 userdel[2848204]: removed group 'testuser1' owned by 'testuser1'",
            fields: ["action": "group_delete", "group": "testuser1"],
            source: integration("67c4b88149d0a662975aa60d898e9f6f9db46142", "test-iam-systemctl.log")
        ),
        Case(
            line: "2026-05-17T18:05:02.000000+00:00 host12345 userdel[2499712]: delete user 'siem_test'",
            fields: ["action": "user_delete", "outcome": "success", "user": "siem_test", "target_user": "siem_test"],
            source: integration("02605edc4392758d516096cd5eaa03b4e1f62bbc", "test-userdel.log")
        ),
        Case(
            line:
                "2026-05-17T18:05:01.000000+00:00 host12345 userdel[2499712]: delete 'siem_test' from shadow group 'tcpdump'",
            fields: ["action": "group_member_remove", "target_user": "siem_test", "group": "tcpdump"],
            source: integration("02605edc4392758d516096cd5eaa03b4e1f62bbc", "test-userdel.log")
        ),
        Case(
            line: "2026-05-17T18:05:04.000000+00:00 host12345 userdel[2499713]: removed shadow group 'siem_group'",
            fields: ["action": "group_delete", "group": "siem_group"],
            source: integration("02605edc4392758d516096cd5eaa03b4e1f62bbc", "test-userdel.log")
        ),
        // Filebeat (test-usermod-group.log-expected.json at 2bb8d5fe): user.name testuser, group.name wheel / shadow.
        Case(
            line: "2026-05-17T18:04:00.000000+00:00 host12345 usermod[5678901]: add 'testuser' to group 'wheel'",
            fields: ["action": "group_member_add", "user": "testuser", "target_user": "testuser", "group": "wheel"],
            source: integration("18509fafc6e9e442185abdbdf62c2d3564d09282", "test-usermod-group.log")
        ),
        Case(
            line:
                "2026-05-17T18:04:01.000000+00:00 host12345 usermod[5678902]: add 'testuser' to shadow group 'shadow'",
            fields: ["action": "group_member_add", "user": "testuser", "group": "shadow"],
            source: integration("18509fafc6e9e442185abdbdf62c2d3564d09282", "test-usermod-group.log")
        ),
        Case(
            line: "2026-05-17T18:02:03.000000+00:00 host12345 gpasswd[3456789]: user alice added by root to group sudo",
            fields: ["action": "group_member_add", "user": "root", "target_user": "alice", "group": "sudo"],
            source: integration("9bcfbcdb21aab9448e605ec1213f22d15fe18bf9", "test-gpasswd.log")
        ),
        Case(
            line:
                "2026-05-17T18:02:04.000000+00:00 host12345 gpasswd[3456789]: user alice removed by root from group sudo",
            fields: ["action": "group_member_remove", "user": "root", "target_user": "alice", "group": "sudo"],
            source: integration("9bcfbcdb21aab9448e605ec1213f22d15fe18bf9", "test-gpasswd.log")
        ),
        Case(
            line: "Oct 11 09:10:48 plinode useradd[25494]: failed adding user 'aol', exit code: 4",
            fields: ["action": "user_create", "outcome": "failure", "target_user": "aol"],
            source: integration("d3ca528cdea7897ddf57cf58a7422778d6eb8757", "test-auth-rhel79.log")
        ),
        Case(
            line:
                "Oct 19 12:54:40 plielk0 usermod[7730]: change user 'acris' expiration from '2001-01-01' to '2243-10-16'",
            fields: ["action": "user_modify", "user": "acris", "target_user": "acris"],
            source: integration("d3ca528cdea7897ddf57cf58a7422778d6eb8757", "test-auth-rhel79.log")
        ),
        Case(
            line: "Feb 24 09:19:55 precise32 chage[8007]: changed password expiry for mysql",
            fields: ["action": "user_modify", "target_user": "mysql"],
            source: integration("c81e9fe78b8c969e7b96b4a6486e10b6a9fc3d94", "test-auth-ubuntu1204.log")
        ),
        Case(
            line: "Feb 24 09:19:55 precise32 chfn[8010]: changed user 'mysql' information",
            fields: ["action": "user_modify", "target_user": "mysql"],
            source: integration("c81e9fe78b8c969e7b96b4a6486e10b6a9fc3d94", "test-auth-ubuntu1204.log")
        ),
    ]

    static let services: [Case] = [
        // Quoted without a header.
        Case(
            line: header + "CRON[25108]: (root) CMD (python /var/ntop/utils/scheduler.py > /dev/null 2>&1)",
            fields: [
                "action": "cron_command", "user": "root",
                "command": "python /var/ntop/utils/scheduler.py > /dev/null 2>&1",
            ],
            source: "https://github.com/ntop/ntopng/issues/588"
        ),
        Case(
            line: "Apr 16 11:18:18 localhost CROND[3333]: (pawel) REPLACE (pawel)",
            fields: ["action": "crontab_replace", "user": "pawel", "target_user": "pawel"],
            source: "https://github.com/SigmaHQ/sigma/pull/2922"
        ),
        Case(
            line: "Jun 18 10:18:01 ThinkPad crond[5091]: (root) RELOAD (/var/spool/cron/root)",
            fields: ["action": "crontab_reload", "user": "root", "target_user": nil],
            source: "https://github.com/bit-team/backintime/issues/781"
        ),
        Case(
            line: "Jun 18 10:15:42 ThinkPad crond[5091]: (CRON) INFO (running with inotify support)",
            fields: ["action": nil, "user": nil],
            source: "https://github.com/bit-team/backintime/issues/781"
        ),
        // Quoted without a header.
        Case(
            line: header
                + "polkitd[1220]: Operator of unix-process:5154:266352 FAILED to authenticate to gain authorization for action org.freedesktop.timedate1.set-ntp for system-bus-name::1.67 [timedatectl set-ntp true] (owned by unix-user:vagrant)",
            fields: [
                "action": "polkit_auth", "outcome": "failure", "user": "vagrant", "target_user": nil,
                "polkit_action": "org.freedesktop.timedate1.set-ntp", "command": "timedatectl set-ntp true",
            ],
            source: "https://github.com/polkit-org/polkit/issues/512"
        ),
        Case(
            line: header
                + "polkitd[1187]: Registered Authentication Agent for unix-session:3 (system bus name :1.92 [/usr/libexec/polkit-kde-authentication-agent-1], object path /org/kde/PolicyKit1/AuthenticationAgent, locale zh_CN",
            fields: ["action": "polkit_agent_register", "session_id": "3"],
            source: "https://github.com/polkit-org/polkit/issues/623"
        ),
        // vsftpd's own log.
        Case(
            line: "Wed Jul 27 18:32:27 2016 [pid 2] CONNECT: Client \"fe80::baac:6fff:fe7d:d2e0\"",
            fields: [
                "program": "vsftpd", "pid": "2", "action": "connect", "src_ip": "fe80::baac:6fff:fe7d:d2e0",
                "user": nil,
            ],
            source: "\(wazuh)/9b03724d39e9f1e5eaf06bf7076ffc5a2a3bb19c/ruleset/testing/tests/vsftpd.ini"
        ),
        Case(
            line: "Mon Oct 24 11:32:53 2016 [pid 1] [$ALOC$] FAIL LOGIN: Client \"10.55.112.101\"",
            fields: ["action": "login", "outcome": "failure", "user": "$ALOC$", "src_ip": "10.55.112.101"],
            source: "\(wazuh)/9b03724d39e9f1e5eaf06bf7076ffc5a2a3bb19c/ruleset/testing/tests/vsftpd.ini"
        ),
        // The reporter masked the address: a user and no address.
        Case(
            line: "Fri Dec 14 09:38:37 2018 [pid 16248] [calisro] OK LOGIN: Client \"X.X.X.X\"",
            fields: ["action": "login", "outcome": "success", "user": "calisro", "src_ip": nil],
            source: "https://github.com/rclone/rclone/issues/2842"
        ),
        Case(
            line:
                "Sun Aug 27 16:28:20 2006 [pid 13962] [xx] OK UPLOAD: Client \"1.2.3.4\", \"/a.php\", 8338 bytes, 18.77Kbyte/sec",
            fields: [
                "action": "upload", "outcome": "success", "user": "xx", "src_ip": "1.2.3.4", "path": "/a.php",
            ],
            source: "\(ossec)/logtesting/6/log"
        ),
        // xrdp's own logs.
        Case(
            line:
                "[20240328-16:23:39] [INFO ] ++ created session (access granted): username raspi, ip ::ffff:192.168.50.119:58472 - socket: 12",
            fields: [
                "action": "session_open", "user": "raspi", "src_ip": "192.168.50.119", "src_port": "58472",
                "severity": "info",
            ],
            source: "https://github.com/neutrinolabs/xrdp/issues/3016"
        ),
        Case(
            line:
                "[20211227-14:27:48] [INFO ] ++ terminated session:  username xiexing, display :10.0, session_pid 69685, ip ::ffff:127.0.0.1:39478 - socket: 12",
            fields: ["action": "session_close", "user": "xiexing", "src_ip": "127.0.0.1", "src_port": "39478"],
            source: "https://github.com/neutrinolabs/xrdp/issues/2093"
        ),
        Case(
            line:
                "[20220223-11:31:49] [INFO ] Socket 12: AF_INET6 connection received from ::ffff:10.65.66.23 port 63913",
            fields: ["action": "connect", "src_ip": "10.65.66.23", "src_port": "63913"],
            source: "https://github.com/neutrinolabs/xrdp/issues/2154"
        ),
        // The reporter masked the address.
        Case(
            line:
                "[20211020-12:38:50] [INFO ] ++ created session (access granted): username myuser, ip ::ffff:IPADDRMASKED:61452 - socket: 12",
            fields: ["action": "session_open", "user": "myuser", "src_ip": nil],
            source: "https://github.com/neutrinolabs/xrdp/issues/2027"
        ),
    ]

    /// Forms the comparison with Wazuh found missed (docs/benchmarks/extraction.md); Wazuh's decoders give the same user
    /// and address (`srcuser`/`user`, `srcip`).
    static let fromComparisons: [Case] = [
        // macOS's `log show --style syslog`: a time with a space and a zone, two spaces before the host.
        Case(
            line:
                "2020-03-25 08:01:34.584936-0700  localhost sshd[1551]: Failed keyboard-interactive/pam for invalid user user from 172.18.1.1 port 32982 ssh2",
            fields: [
                "hostname": "localhost", "program": "sshd", "action": "login", "outcome": "failure", "user": "user",
                "src_ip": "172.18.1.1",
            ],
            source: "\(wazuh)/a42268a27c555d9348d5598fb8751eaf4c8e9024/ruleset/testing/tests/sshd.ini"
        ),
        // OpenSSH's auth-pam.c: `PAM: %s for %s%.100s from %.100s`.
        Case(
            line:
                "2013-10-30T14:51:24.139258+01:00 srv sshd[12664]: error: PAM: User not known to the underlying authentication module for illegal user warez from 192.241.237.101",
            fields: ["action": "login", "outcome": "failure", "user": "warez", "src_ip": "192.241.237.101"],
            source: "\(wazuh)/a42268a27c555d9348d5598fb8751eaf4c8e9024/ruleset/testing/tests/sshd.ini"
        ),
        // A legacy PAM tag with the count of further failures.
        Case(
            line:
                "Nov 11 22:46:29 localhost sshd(pam_unix)[15794]: 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.3.1  user=root",
            fields: [
                "program": "sshd", "pam_module": "pam_unix", "outcome": "failure", "more_failures": "2", "user": "root",
                "src_ip": "10.0.3.1",
            ],
            source: "\(wazuh)/a42268a27c555d9348d5598fb8751eaf4c8e9024/ruleset/testing/tests/pam.ini"
        ),
        // An application's log with a space-separated time and no zone stays unread as syslog.
        Case(
            line: "2026-11-24 10:00:00,123 INFO sshd[1]: Failed password for root from 203.0.113.9 port 1 ssh2",
            fields: ["hostname": nil, "user": nil, "src_ip": nil],
            source: "by hand"
        ),
    ]

    static let all = su + sudo + sessions + accounts + services + fromComparisons

    @Test(arguments: all)
    func findsWhoDidWhat(_ row: Case) {
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        let parsed = parser.parse(Array(row.line.utf8), observedNanos: 1_795_521_600 * 1_000_000_000)
        for (key, value) in row.fields {
            #expect(parsed[field: key] == value, "\(key) in \(row.line) (\(row.source))")
        }
    }

    /// polkit's success line, written from its format string (`polkitbackendinteractiveauthority.c`, "Operator of %s
    /// successfully authenticated as %s to gain TEMPORARY authorization for action %s for %s [%s] (owned by %s)") in the
    /// shape of the real FAILED line above: no public sample with a citable address was found.
    @Test func polkitSuccessFromItsFormatString() {
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        let parsed = parser.parse(
            Array(
                (Self.header
                    + "polkitd[585]: Operator of unix-session:2 successfully authenticated as unix-user:root to gain TEMPORARY authorization for action org.freedesktop.systemd1.manage-units for system-bus-name::1.85 [systemctl start [x] y] (owned by unix-user:mchen)")
                    .utf8
            ),
            observedNanos: 1_795_521_600 * 1_000_000_000
        )
        #expect(parsed[field: "outcome"] == "success")
        #expect(parsed[field: "user"] == "mchen")
        #expect(parsed[field: "target_user"] == "root")
        #expect(parsed[field: "session_id"] == "2")
        #expect(parsed[field: "command"] == "systemctl start [x] y")
    }

    /// xrdp's and vsftpd's own files carry the time without a zone: wall-clock time in the configured zone.
    @Test func serviceLogTimesAreWallClock() throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        let parser = LineParser(timeZone: berlin)
        let xrdp = parser.parse(
            Array(
                "[20240328-16:23:39] [INFO ] ++ created session (access granted): username raspi, ip ::ffff:192.168.50.119:58472 - socket: 12"
                    .utf8
            ),
            observedNanos: 0
        )
        #expect(xrdp.format == .serviceLog)
        #expect(xrdp.timeNanos == isoNanos("2024-03-28T15:23:39Z"))
        let vsftpd = parser.parse(
            Array("Wed Jul 27 18:32:27 2016 [pid 2] CONNECT: Client \"fe80::baac:6fff:fe7d:d2e0\"".utf8),
            observedNanos: 0
        )
        #expect(vsftpd.format == .serviceLog)
        #expect(vsftpd.timeNanos == isoNanos("2016-07-27T16:32:27Z"))
    }
}
