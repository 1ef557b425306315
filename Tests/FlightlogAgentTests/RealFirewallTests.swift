import FlightlogAgent
import Foundation
import Testing

/// The kernel's netfilter LOG lines (UFW, plain iptables rules, firewall appliances) on public samples.
///
/// Truth: Filebeat's expected output for its iptables module's `iptables.log` (`source.ip`, `destination.ip`,
/// `source.port`, `destination.port`, `network.transport`); every other value was written down by hand from the line
/// before the parser ran on it.
@Suite("Firewall lines on public samples")
struct RealFirewallTests {
    /// elastic/beats `x-pack/filebeat/module/iptables/log/test/iptables.log-expected.json` at
    /// 02b932ded68d943af8dfe852aa6deadfee782421: each entry's `log.original`, and (source, destination, source port,
    /// destination port, transport) as Filebeat gives them.
    static let filebeat: [(String, String, String, String, String, String)] = [
        (
            "Jan  8 03:37:09 example-host kernel: iptables DROP_INPUT: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:9e:ec:2c:71:08:00 SRC=203.0.113.36 DST=172.16.54.114 LEN=52 TOS=0x00 PREC=0x00 TTL=115 ID=15743 DF PROTO=TCP SPT=17805 DPT=445 WINDOW=8192 RES=0x00 SYN URGP=0 ",
            "203.0.113.36", "172.16.54.114", "17805", "445", "tcp"
        ),
        (
            "Jan  8 03:37:57 example-host kernel: iptables DROP_INPUT: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:76:e0:e2:d5:08:00 SRC=198.51.100.198 DST=172.16.54.114 LEN=40 TOS=0x00 PREC=0x00 TTL=243 ID=17703 PROTO=TCP SPT=47091 DPT=1433 WINDOW=1024 RES=0x00 SYN URGP=0 ",
            "198.51.100.198", "172.16.54.114", "47091", "1433", "tcp"
        ),
        (
            "Jan  8 03:38:45 example-host kernel: iptables DROP_INPUT: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:9e:ec:2c:71:08:00 SRC=203.0.113.201 DST=172.16.54.114 LEN=52 TOS=0x00 PREC=0x00 TTL=115 ID=19619 DF PROTO=TCP SPT=59319 DPT=445 WINDOW=8192 RES=0x00 SYN URGP=0 ",
            "203.0.113.201", "172.16.54.114", "59319", "445", "tcp"
        ),
        (
            "Jan  8 03:39:25 example-host kernel: iptables DROP_INPUT: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:9e:ec:2c:71:08:00 SRC=203.0.113.246 DST=172.16.54.114 LEN=40 TOS=0x00 PREC=0x00 TTL=240 ID=4255 DF PROTO=TCP SPT=44181 DPT=80 WINDOW=14600 RES=0x00 SYN URGP=0 ",
            "203.0.113.246", "172.16.54.114", "44181", "80", "tcp"
        ),
        (
            "Jan  8 03:40:21 example-host kernel: iptables DROP_INPUT: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:76:e0:e2:d5:08:00 SRC=203.0.113.208 DST=172.16.54.114 LEN=52 TOS=0x00 PREC=0x00 TTL=110 ID=27150 DF PROTO=TCP SPT=64358 DPT=445 WINDOW=8192 RES=0x00 SYN URGP=0 ",
            "203.0.113.208", "172.16.54.114", "64358", "445", "tcp"
        ),
        (
            "Jan  8 03:40:25 example-host kernel: iptables DROP_INPUT: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:9e:ec:2c:71:08:00 SRC=198.51.100.160 DST=172.16.54.114 LEN=40 TOS=0x00 PREC=0x00 TTL=242 ID=7264 PROTO=TCP SPT=58830 DPT=445 WINDOW=1024 RES=0x00 SYN URGP=0 ",
            "198.51.100.160", "172.16.54.114", "58830", "445", "tcp"
        ),
        (
            "Jan  8 03:41:17 example-host kernel: iptables DROP_INPUT: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:76:e0:e2:d5:08:00 SRC=198.51.100.115 DST=172.16.54.114 LEN=52 TOS=0x00 PREC=0x00 TTL=117 ID=6101 DF PROTO=TCP SPT=51985 DPT=445 WINDOW=8192 RES=0x00 SYN URGP=0 ",
            "198.51.100.115", "172.16.54.114", "51985", "445", "tcp"
        ),
        (
            "Jan  8 03:41:23 example-host kernel: iptables DROP_INPUT: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:76:e0:e2:d5:08:00 SRC=198.51.100.167 DST=172.16.54.114 LEN=52 TOS=0x00 PREC=0x00 TTL=45 ID=6319 DF PROTO=TCP SPT=4099 DPT=445 WINDOW=8192 RES=0x00 SYN URGP=0 ",
            "198.51.100.167", "172.16.54.114", "4099", "445", "tcp"
        ),
        (
            "Jan  8 03:43:18 example-host kernel: iptables DROP_INPUT: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:9e:ec:2c:71:08:00 SRC=198.51.100.19 DST=172.16.54.114 LEN=40 TOS=0x00 PREC=0x00 TTL=245 ID=48624 PROTO=TCP SPT=59287 DPT=139 WINDOW=1024 RES=0x00 SYN URGP=0 ",
            "198.51.100.19", "172.16.54.114", "59287", "139", "tcp"
        ),
        (
            "Jan  8 03:43:42 example-host kernel: iptables DROP_INPUT: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:76:e0:e2:d5:08:00:45:00:00:00:00 SRC=198.51.100.68 DST=172.16.54.114 LEN=40 TOS=0x00 PREC=0x00 TTL=250 ID=54321 PROTO=TCP SPT=53296 DPT=8088 WINDOW=65535 RES=0x00 SYN URGP=0 ",
            "198.51.100.68", "172.16.54.114", "53296", "8088", "tcp"
        ),
    ]

    @Test func filebeatsIptablesSample() {
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        for (line, source, destination, sourcePort, destinationPort, transport) in Self.filebeat {
            let parsed = parser.parse(Array(line.utf8), observedNanos: 1_546_920_000 * 1_000_000_000)
            #expect(parsed[field: "src_ip"] == source, "\(line)")
            #expect(parsed[field: "dst_ip"] == destination, "\(line)")
            #expect(parsed[field: "src_port"] == sourcePort, "\(line)")
            #expect(parsed[field: "dst_port"] == destinationPort, "\(line)")
            #expect(parsed[field: "protocol"]?.lowercased() == transport, "\(line)")
            #expect(parsed[field: "action"] == "block", "\(line)")
            #expect(parsed[field: "log_prefix"] == "iptables DROP_INPUT:", "\(line)")
        }
    }

    /// Hand-written truth: (line, source, fields).
    static let byHand: [(String, String, [String: String?])] = [
        (
            "Feb  4 23:33:37 hostname kernel: [ 3529.289825] [UFW BLOCK] IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd SRC=254.253.252.251 DST=191.192.193.194 LEN=103 TOS=0x00 PREC=0x00 TTL=52 ID=0 DF PROTO=UDP SPT=53 DPT=36427 LEN=83",
            "https://github.com/wazuh/wazuh/blob/19b0889e03a71d9f53dfdba91c5e9f41ea3a4a9b/ruleset/testing/tests/iptables.ini",
            [
                "action": "block", "log_prefix": "UFW BLOCK", "src_ip": "254.253.252.251", "dst_ip": "191.192.193.194",
                "protocol": "UDP", "src_port": "53", "dst_port": "36427", "in_iface": "eth0", "out_iface": nil,
            ]
        ),
        (
            "Sep 20 15:52:00 managerHost kernel: [ 2870.303541] [UFW AUDIT] IN= OUT=ppp0 SRC=117.197.243.67 DST=218.248.255.163 LEN=62 TOS=0x00 PREC=0x00 TTL=64 ID=52751 DF PROTO=UDP SPT=57548 DPT=53 LEN=42",
            "https://github.com/wazuh/wazuh/blob/19b0889e03a71d9f53dfdba91c5e9f41ea3a4a9b/ruleset/testing/tests/iptables.ini",
            [
                "action": "audit", "src_ip": "117.197.243.67", "dst_ip": "218.248.255.163", "dst_port": "53",
                "in_iface": nil, "out_iface": "ppp0",
            ]
        ),
        (
            "Nov 18 13:39:49 OpenWRT kernel: [10051.313745] DROP(src wan)IN=eth0 OUT= MAC=c2:56:27:73:33:cf:c4:f0:81:b0:93:24:08:00 SRC=205.205.205.205 DST=192.168.8.100 LEN=44 TOS=0x00 PREC=0x00 TTL=31 ID=8549 PROTO=TCP SPT=40952 DPT=23 WINDOW=64144 RES=0x00 SYN URGP=0 MARK=0xff00",
            "https://github.com/wazuh/wazuh/blob/19b0889e03a71d9f53dfdba91c5e9f41ea3a4a9b/ruleset/testing/tests/iptables.ini",
            ["action": "block", "log_prefix": "DROP(src wan)", "src_ip": "205.205.205.205", "dst_port": "23"]
        ),
        (
            "Aug 17 10:03:37 myhostname kernel: [4475569.016000] IN= OUT=lo SRC=192.168.2.11 DST=192.168.2.11 LEN=52 TOS=0x10 PREC=0x00 TTL=64 ID=49546 DF PROTO=TCP SPT=43068 DPT=22 WINDOW=8192 RES=0x00 ACK URGP=0",
            "https://github.com/wazuh/wazuh/blob/19b0889e03a71d9f53dfdba91c5e9f41ea3a4a9b/ruleset/testing/tests/iptables.ini",
            ["action": nil, "log_prefix": nil, "src_ip": "192.168.2.11", "dst_port": "22", "out_iface": "lo"]
        ),
        (
            "Jan 22 09:05:05 ubuntu-bionic kernel: [16571.459614] IN= OUT=lo SRC=2001:0db8:0000:0000:0000:0000:0000:0001 DST=2001:0db8:0000:0000:0000:0000:0000:0002 LEN=104 TC=0 HOPLIMIT=64 FLOWLBL=868225 PROTO=ICMPv6 TYPE=128 CODE=0 ID=3427 SEQ=1 ",
            "https://github.com/elastic/beats/blob/02b932ded68d943af8dfe852aa6deadfee782421/x-pack/filebeat/module/iptables/log/test/ipv6.log",
            [
                "src_ip": "2001:0db8:0000:0000:0000:0000:0000:0001",
                "dst_ip": "2001:0db8:0000:0000:0000:0000:0000:0002",
                "protocol": "ICMPv6", "src_port": nil, "dst_port": nil,
            ]
        ),
        // An ICMP error quotes the offending packet in brackets: its addresses and ports are not this packet's.
        (
            "Jan  8 03:37:09 DENY: IN=eth0 OUT= MAC=90:10:28:5f:62:24:90:10:18:5a:89:2a:08:00 SRC=192.0.2.71 DST=192.0.2.83 LEN=88 TOS=0x00 PREC=0x00 TTL=118 ID=21684 PROTO=ICMP TYPE=3 CODE=3 [SRC=192.0.2.83 DST=192.168.173.191 LEN=60 TOS=0x00 PREC=0x00 TTL=54 ID=0 DF PROTO=UDP SPT=21458 DPT=62936 LEN=40 ]",
            "https://github.com/elastic/beats/blob/3a27a98a7b28856509d79c1781478b0b04709653/x-pack/filebeat/module/iptables/log/test/icmp.log",
            ["src_ip": "192.0.2.71", "dst_ip": "192.0.2.83", "protocol": "ICMP", "src_port": nil, "dst_port": nil]
        ),
        (
            "Oct 10 07:25:12 Hostname kernel: [wan-lan-default-D]IN=eth0 OUT= MAC=90:10:20:76:8d:20:90:10:65:29:b6:2a:08:00 SRC=175.16.199.1 DST=10.4.0.5 LEN=52 TOS=0x00 PREC=0x00 TTL=63 ID=0 DF PROTO=TCP SPT=38842 DPT=443 WINDOW=2853 RES=0x00 ACK URGP=0 ",
            "https://github.com/elastic/beats/blob/1917df530c73f802ad27538316e8dd14ffb00e87/x-pack/filebeat/module/iptables/log/test/geo.log",
            ["log_prefix": "wan-lan-default-D", "action": nil, "src_ip": "175.16.199.1", "dst_port": "443"]
        ),
        // No `kernel:` tag at all: the prefix where the tag would be.
        (
            "Jun 28 04:35:30 Abc-A1 [SOMETHING-1234-A] IN=abc.123 OUT=abc.123 MAC=0a:ea:10:00:f0:06:10:e1:21:31:61:20:01:00:41:00:00:01 SRC=10.251.1.1 DST=10.251.1.1 LEN=32 TOS=00 PREC=0x00 TTL=63 ID=12345 PROTO=UDP SPT=9000 DPT=9000 LEN=12 MARK=0",
            "https://github.com/elastic/beats/blob/196e8969bca24d816017c494cb15ba79dc279210/x-pack/filebeat/module/iptables/log/test/iptables.log",
            ["log_prefix": "SOMETHING-1234-A", "src_ip": "10.251.1.1", "src_port": "9000", "in_iface": "abc.123"]
        ),
    ]

    @Test func lineShapesWrittenDownByHand() {
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        for (line, source, fields) in Self.byHand {
            let parsed = parser.parse(Array(line.utf8), observedNanos: 1_546_920_000 * 1_000_000_000)
            for (key, value) in fields {
                #expect(parsed[field: key] == value, "\(key) in \(line) (\(source))")
            }
        }
    }

    /// Kernel lines that are not netfilter's, and a netfilter line whose source is not an address, add no packet
    /// fields; the same line with an address does.
    @Test func onlyNetfilterShapedKernelLinesGiveAddresses() {
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        let good = parser.parse(
            Array("Nov 24 10:00:00 ws-602 kernel: [UFW BLOCK] IN=eth0 OUT= SRC=192.0.2.9 DST=10.0.0.1 PROTO=TCP".utf8),
            observedNanos: 1_795_521_600 * 1_000_000_000
        )
        #expect(good[field: "src_ip"] == "192.0.2.9")
        #expect(good[field: "action"] == "block")
        for line in [
            "Nov 24 10:00:00 ws-602 kernel: [ 12.345] usb 1-1: new device",
            "Nov 24 10:00:00 ws-602 kernel: [UFW BLOCK] IN=eth0 OUT= SRC=not-an-address DST=10.0.0.1 PROTO=TCP",
            "Nov 24 10:00:00 ws-602 kernel: LOGIN=x OUT= SRC=10.0.0.1",
        ] {
            let parsed = parser.parse(Array(line.utf8), observedNanos: 1_795_521_600 * 1_000_000_000)
            #expect(parsed[field: "src_ip"] == nil, "\(line)")
            #expect(parsed[field: "action"] == nil, "\(line)")
        }
    }
}
