/// Accounts and groups created, changed and deleted, as shadow-utils writes it to auth.log (useradd, adduser, usermod,
/// userdel, groupadd, groupdel, gpasswd, chage, chfn).
///
/// Fields this file emits (one place to map to Elastic Common Schema later):
///
/// | field         | value                                                                                        |
/// |---------------|----------------------------------------------------------------------------------------------|
/// | `action`      | `user_create`, `user_delete`, `user_modify`, `user_lock`, `user_unlock`, `password_change`,  |
/// |               | `group_create`, `group_delete`, `group_member_add`, `group_member_remove`                    |
/// | `outcome`     | `success`; `failure` for `failed adding user …`                                              |
/// | `target_user` | the account created, changed, deleted, added to or removed from a group                     |
/// | `user`        | who did it when the line says (`gpasswd`: `… added by root …`); otherwise the account itself, |
/// |               | so that `--user NAME` finds what happened to it                                               |
/// | `group`       | the group created, deleted, joined or left                                                   |
/// | `uid`, `gid`  | a new account's or group's numeric ids                                                       |
/// | `home`, `shell` | a new account's                                                                            |
/// | `tty`         | newer shadow's `from=` (`/dev/pts/1`)                                                        |
///
/// Lines of these programs that are none of the forms below add nothing.
enum AccountMessage {
    static func extract(_ text: Substring, into fields: inout FieldList) {
        if let rest = text.after("new user: ") {
            // new user: name=apache, UID=48, GID=48, home=/usr/share/httpd, shell=/sbin/nologin[, from=/dev/pts/1]
            let pairs = self.commaPairs(rest)
            guard let name = pairs["name"], !name.isEmpty else { return }
            self.account("user_create", name, into: &fields)
            for (key, field) in [("uid", "uid"), ("gid", "gid"), ("home", "home"), ("shell", "shell"), ("from", "tty")]
            {
                if let value = pairs[key], !value.isEmpty { fields.add(field, value) }
            }
        } else if let rest = text.after("new group: ") ?? text.after("group added to ") {
            // new group: name=apache, GID=48 | group added to /etc/group: name=tsg, GID=1003 | … /etc/gshadow: name=tsg
            let list =
                text.startsWith("group added to ") ? rest.firstRange(of: ": ").map { rest[$0.upperBound...] } : rest
            guard let list else { return }
            let pairs = self.commaPairs(list)
            guard let name = pairs["name"], !name.isEmpty else { return }
            self.group("group_create", name, into: &fields)
            if let gid = pairs["gid"], !gid.isEmpty { fields.add("gid", gid) }
        } else if let name = text.quoted(after: "failed adding user '"), text.startsWith("failed adding user '") {
            // failed adding user 'aol', exit code: 4
            guard !name.isEmpty else { return }
            fields.add("action", "user_create")
            fields.add("outcome", "failure")
            fields.add("user", name)
            fields.add("target_user", name)
        } else if let rest = text.after("add '") {
            // add 'testuser' to group 'wheel' | add 'testuser' to shadow group 'shadow'
            self.membership("group_member_add", rest, joiner: "' to ", into: &fields)
        } else if let name = text.quoted(after: "delete user '"), text.startsWith("delete user '") {
            // delete user 'siem_test'
            guard !name.isEmpty else { return }
            self.account("user_delete", name, into: &fields)
        } else if let rest = text.after("delete '") {
            // delete 'siem_test' from group 'tcpdump' | delete 'siem_test' from shadow group 'tcpdump'
            self.membership("group_member_remove", rest, joiner: "' from ", into: &fields)
        } else if let rest = text.after("removed group '") ?? text.after("removed shadow group '") {
            // removed group 'testuser1' owned by 'testuser1' | removed shadow group 'siem_group'
            guard let end = rest.firstCharacterIndex(ascii: UInt8(ascii: "'")), end > rest.startIndex else { return }
            self.group("group_delete", rest[..<end], into: &fields)
        } else if let rest = text.after("group '"), let end = rest.firstRange(of: "' removed") {
            // groupdel: group 'fleet' removed | group 'fleet' removed from /etc/group
            guard end.lowerBound > rest.startIndex else { return }
            self.group("group_delete", rest[..<end.lowerBound], into: &fields)
        } else if let rest = text.after("change user '") {
            // change user 'acris' password | change user 'acris' expiration from '2001-01-01' to '2243-10-16'
            guard let end = rest.firstCharacterIndex(ascii: UInt8(ascii: "'")), end > rest.startIndex else { return }
            let what = rest[rest.index(after: end)...]
            self.account(what.startsWith(" password") ? "password_change" : "user_modify", rest[..<end], into: &fields)
        } else if let rest = text.after("lock user '") ?? text.after("unlock user '") {
            // lock user 'mchen' password | unlock user 'mchen' password
            guard let end = rest.firstCharacterIndex(ascii: UInt8(ascii: "'")), end > rest.startIndex else { return }
            self.account(text.startsWith("lock") ? "user_lock" : "user_unlock", rest[..<end], into: &fields)
        } else if let rest = text.after("user ") {
            // gpasswd: user alice added by root to group sudo | user alice removed by root from group sudo
            for (verb, place, action) in [
                (" added by ", " to group ", "group_member_add"),
                (" removed by ", " from group ", "group_member_remove"),
            ] {
                guard let by = rest.firstRange(of: verb), let group = rest[by.upperBound...].firstRange(of: place)
                else { continue }
                let member = rest[..<by.lowerBound]
                let actor = rest[by.upperBound..<group.lowerBound]
                let name = rest[group.upperBound...]
                guard !member.isEmpty, !actor.isEmpty, !name.isEmpty else { return }
                fields.add("action", action)
                fields.add("outcome", "success")
                fields.add("user", actor)
                fields.add("target_user", member)
                fields.add("group", name)
                return
            }
        } else if let rest = text.after("changed password expiry for ") {
            // chage: changed password expiry for mysql
            guard !rest.isEmpty, !rest.contains(" ") else { return }
            self.account("user_modify", rest, into: &fields)
        } else if let rest = text.after("changed user '") {
            // chfn: changed user 'mysql' information
            guard let end = rest.firstCharacterIndex(ascii: UInt8(ascii: "'")), end > rest.startIndex else { return }
            self.account("user_modify", rest[..<end], into: &fields)
        }
    }

    /// An account acted on, with no actor named: the account is both `user` and `target_user`.
    private static func account(_ action: String, _ name: Substring, into fields: inout FieldList) {
        fields.add("action", action)
        fields.add("outcome", "success")
        fields.add("user", name)
        fields.add("target_user", name)
    }

    private static func group(_ action: String, _ name: Substring, into fields: inout FieldList) {
        fields.add("action", action)
        fields.add("outcome", "success")
        fields.add("group", name)
    }

    /// `MEMBER' to [shadow ]group 'GROUP'` (after the opening quote) and the same with `from`.
    private static func membership(
        _ action: String,
        _ rest: Substring,
        joiner: String,
        into fields: inout FieldList
    ) {
        guard let join = rest.firstRange(of: joiner) else { return }
        let member = rest[..<join.lowerBound]
        var tail = rest[join.upperBound...]
        if let shadow = tail.after("shadow ") { tail = shadow }
        guard let groupName = tail.quoted(after: "group '"), tail.startsWith("group '"), !member.isEmpty,
            !groupName.isEmpty
        else { return }
        self.account(action, member, into: &fields)
        fields.add("group", groupName)
    }

    /// `key=value, key=value` as shadow writes it, keys lowercased (old versions write `gid=`, newer `GID=`).
    private static func commaPairs(_ text: Substring) -> [String: Substring] {
        var result: [String: Substring] = [:]
        for part in text.split(separator: ",") {
            let item = part.drop { $0 == " " }
            guard let equals = item.firstIndex(of: "=") else { continue }
            let key = item[..<equals].lowercased()
            if result[key] == nil { result[key] = item[item.index(after: equals)...] }
        }
        return result
    }
}
