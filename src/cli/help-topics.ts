/**
 * `clique help <topic>`: the things no single command's --help explains.
 * Plain text, at most about 72 columns, so it reads well in any terminal.
 */
export const HELP_TOPICS: Readonly<Record<string, { summary: string; text: string }>> = {
  rooms: {
    summary: 'chat rooms: names, finding them, private rooms, history',
    text: `Chat rooms

A room is a multicast group (239.255.71.x and a UDP port) that its
members share; nobody runs it. Rooms are advertised on mDNS under their
name (_clique._udp), so \`clique join NAME\` finds a room by name, or
creates it (a random group) when nobody advertises one.

  clique rooms                   rooms advertised on the network
  clique join NAME               chat (the interactive client)
  clique listen NAME [--json]    print what happens, for logs and scripts
  clique send NAME TEXT          send one line (or - for each line of stdin)
  clique invite CONTACT NAME     invite someone

Names: any UTF-8 text of 1-63 bytes without control characters (dots,
spaces and accents are fine). A private room, not looked up by name:
--address 239.255.71.23 --port 40123 on join, send or listen.

join, send and listen go through the clique service (\`clique up\`),
which holds your membership and keeps the history
($XDG_DATA_HOME/clique/history.sqlite); --no-service runs on its own.
`,
  },
  contacts: {
    summary: 'people on the network, 1-1 messages and invitations',
    text: `Contacts

People are XEP-0174 link-local presences (_presence._tcp on mDNS),
named user@host: yours is <login>@<host> unless --name says otherwise
(it must be user@host). A nick (-n/--nick) is shown beside the name.

  clique contacts [--watch]      who is on the network
  clique online                  be present; print 1-1 messages,
                                 invitations and contacts until Ctrl-C
  clique say CONTACT TEXT        a 1-1 message (--me for an action)
  clique invite CONTACT ROOM     an invitation; \`online\` prints the
                                 \`clique join\` command that accepts it

--status avail|away|dnd and --message set your presence (online).
`,
  },
  json: {
    summary: 'the --json output of listen, online, contacts --watch, send, say, invite',
    text: `JSON output

With --json, listen, online, contacts --watch, send, say and invite
print one JSON object per line, an event. Every event has:

  "event"   what happened: joined, ready, message, member-joined,
            member-left, member-updated, topic, typing, warning, moved,
            left, history, online, offline, contact-added,
            contact-updated, contact-removed, name-changed, invitation,
            sent, invited, rejected
  "time"    ISO 8601 in UTC with milliseconds, e.g.
            "2026-11-28T16:25:40.123Z"

and the fields of its kind (null means none). New fields may be added:
ignore those you do not know. The fields of each event are described
in docs/events.md, and docs/events.schema.json is the JSON Schema.

rooms, contacts (without --watch), status and tubes print one JSON
document instead.

  clique listen Witchcraft --json | jq -r 'select(.event=="message") | .text'
`,
  },
  config: {
    summary: 'the config file: defaults for nick, interface and other options',
    text: `The config file

$XDG_CONFIG_HOME/clique/config.json (~/.config/clique/config.json when
XDG_CONFIG_HOME is not set) holds defaults for options, by their long
name in camelCase (--wait-members is "waitMembers"):

  {
    "nick": "alice",
    "interface": "192.168.1.20",
    "commands": {
      "send": { "waitMembers": 0 },
      "listen": { "history": 20 }
    }
  }

Top-level settings apply to every command that has the option;
"commands" settings to that command only, and win over top-level ones.
Options on the command line win over everything, then the environment
(CLIQUE_INTERFACE), then this file. Values are checked as on the command
line; a broken file or an unknown setting is an error naming the file
(and the line, for broken JSON), exit status 2.
`,
  },
  completion: {
    summary: 'shell completion for bash, zsh and fish',
    text: `Shell completion

clique completion SHELL prints a completion script for bash, zsh or
fish, generated from this version's commands and options:

  bash:  clique completion bash > ~/.local/share/bash-completion/completions/clique
  zsh:   clique completion zsh > "\${fpath[1]}/_clique"
  fish:  clique completion fish > ~/.config/fish/completions/clique.fish

or, for the current shell only: source <(clique completion bash).
`,
  },
};
