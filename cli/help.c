/* auditstream's help texts: `auditstream --help` and `auditstream COMMAND --help`, each
 * the command's synopsis, what it prints and the options it takes. */
#include "commands.h"

#define COMMON_OPTIONS                                                                             \
    "Options of every command:\n"                                                                  \
    "  --audit-table NAME   the audit table (else AUDIT_TABLE, else Audit)\n"                      \
    "  --table NAME         the source table whose items are audited (else AUDIT_SOURCE_TABLE,\n"  \
    "                       else Configuration); KEY's trail is <table>/<KEY>\n"                   \
    "  --region REGION      else AWS_REGION, AWS_DEFAULT_REGION, then the profile's region\n"      \
    "  --endpoint-url URL   else AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL\n"               \
    "  --profile NAME       a profile of ~/.aws/credentials and ~/.aws/config (static keys);\n"    \
    "                       else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, else AWS_PROFILE,\n" \
    "                       else default\n"                                                        \
    "  --json               one JSON object a line instead of a table\n"                           \
    "  --help               this help\n"

#define TIMES                                                                                      \
    "Times (T) are ISO-8601 UTC, 2024-05-01T12:30:45Z (milliseconds optional), or epoch\n"         \
    "seconds, 1714566645. Tables show times in UTC.\n"

static const char GENERAL[] =
    "usage: auditstream COMMAND [KEY ...] [OPTIONS]\n"
    "\n"
    "Reads the audit trail that audit_producer writes to the audit table, through its\n"
    "history index.\n"
    "\n"
    "Commands:\n"
    "  history KEY [--since T] [--until T]   the item's changes, record by record\n"
    "  show KEY [--at T]                     the item as it was at a time (default: now)\n"
    "  verify [KEY ...] [--all] [--anchors FILE]\n"
    "                                        checks each trail: continuity, hash chain, anchors\n"
    "  backfill [--segments N]               writes a BASELINE item for each item whose\n"
    "                                        trail does not show it as it is\n"
    "\n"
    "KEY is the item's key as the audit items' itemKey holds it: a string key's text, a\n"
    "number's digits, or for a composite key the JSON object {\"a\":..,\"b\":..}.\n"
    "\n" COMMON_OPTIONS "\n" TIMES "\n"
    "`auditstream COMMAND --help` tells more; `auditstream --version` the version.\n";

static const char HISTORY[] =
    "usage: auditstream history KEY [--since T] [--until T] [OPTIONS]\n"
    "\n"
    "Lists the changes of the item KEY, oldest first: for each record its time, sequence\n"
    "number, event (CREATE, UPDATE, DELETE, BASELINE) and actor, then one line per\n"
    "changed path with its old and new values. Long values are shortened with an\n"
    "ellipsis; --json gives them whole, one record a line:\n"
    "  {\"modificationTime\",\"sequenceNumber\",\"eventName\",\"actor\",\n"
    "   \"changes\":[{\"path\",\"oldValue\",\"newValue\"}]}\n"
    "\n"
    "  --since T   only the records at or after T\n"
    "  --until T   only the records at or before T\n"
    "\n" COMMON_OPTIONS "\n" TIMES "\n"
    "Exit status: 0 done (a key without records too); 1 DynamoDB failed; 2 a usage error,\n"
    "no such table or index, access denied or DynamoDB not reached.\n";

static const char SHOW[] =
    "usage: auditstream show KEY [--at T] [OPTIONS]\n"
    "\n"
    "Shows the item KEY as it was at T (default: now), replayed from its trail: whether it\n"
    "existed, whether every attribute is known (a trail that starts with an UPDATE knows\n"
    "only what it changed), its attributes, and the record that last changed it. --json\n"
    "gives one line:\n"
    "  {\"historyKey\",\"at\",\"exists\",\"complete\",\"item\",\n"
    "   \"lastChange\":{\"sequenceNumber\",\"modificationTime\"},\"notes\"}\n"
    "A key with no trail at or before T has exists null, and a note saying so.\n"
    "\n"
    "  --at T   the time to show the item at\n"
    "\n" COMMON_OPTIONS "\n" TIMES "\n"
    "Exit status: 0 done; 1 DynamoDB failed; 2 a usage error, no such table or index,\n"
    "access denied or DynamoDB not reached.\n";

static const char VERIFY[] =
    "usage: auditstream verify [KEY ...] [--all] [--anchors FILE] [OPTIONS]\n"
    "\n"
    "Checks the trail of each KEY (of every key in the audit table with --all; of each key\n"
    "the anchors in FILE name when --anchors comes without KEY):\n"
    "  continuity  a record's old values are not the state its trail replays to just\n"
    "              before it: a change is missing (a stream record that expired unread,\n"
    "              or an audit item deleted)\n"
    "With the hash chain (AUDIT_CHAIN=on), each entry is recomputed with SHA-256:\n"
    "  altered     an entry's chain does not follow from its items and chainPrev\n"
    "  missing     an entry's chainPrev is not the chain of the entry before it\n"
    "  head        the last entry is not the one the key's chain head names\n"
    "  anchor      a head the function logged is not on the recomputed chain\n"
    "  expired     the first entries are gone after their expiresAt: fine, the key stays ok\n"
    "Each problem names the record (its sequence number). A key found not ok is read\n"
    "again a second later (up to twice) while what it reads changes, so that a change being\n"
    "written as it is read is not taken for a gap. --json gives a line per key,\n"
    "  "
    "{\"historyKey\",\"entries\",\"ok\",\"problems\":[{\"kind\",\"sequenceNumber\",\"detail\"}]}\n"
    "then {\"keys\",\"entries\",\"ok\"}; entries counts records.\n"
    "\n"
    "  --all           every key of the audit table: a Scan of its historyKey and chainOf\n"
    "                  (needs dynamodb:Scan); not with KEYs\n"
    "  --anchors FILE  the function's \"chain heads\" log lines (\"-\": standard input), one\n"
    "                  a line: JSON log lines, bare {\"heads\":[...]} objects, or text log\n"
    "                  lines with heads=[...]; other log lines are skipped. Each anchored head\n"
    "                  of a key verified must lie on its recomputed chain. With KEYs, only\n"
    "                  their anchors are checked\n"
    "\n" COMMON_OPTIONS "\n"
    "Exit status: 0 every key ok; 1 a key is not ok, or DynamoDB failed; 2 a usage error,\n"
    "a malformed anchors file, no such table or index, access denied or DynamoDB not\n"
    "reached.\n";

static const char BACKFILL[] =
    "usage: auditstream backfill [--segments N] [OPTIONS]\n"
    "\n"
    "Scans the source table and, for each item whose trail does not replay to the item as\n"
    "read (no trail, or one that starts after the stream was turned on), writes one\n"
    "BASELINE audit item holding it, with a conditional write: running it again adds and\n"
    "rewrites nothing, and it is safe while the stream flows. The function's AUDIT_FORMAT,\n"
    "AUDIT_IGNORE_ATTRIBUTES, AUDIT_REDACT_ATTRIBUTES, AUDIT_REDACT_KEY,\n"
    "AUDIT_RETENTION_DAYS, AUDIT_ACTOR_ATTRIBUTE and AUDIT_CHAIN apply, read as the\n"
    "function reads them; with AUDIT_CHAIN=on each BASELINE is linked into its key's hash\n"
    "chain and the chain head moved under a condition, as the function does.\n"
    "Prints the counts at the end (--json: {\"scanned\",\"written\",\"failed\"}); a progress\n"
    "bar on standard error when it is a terminal.\n"
    "\n"
    "  --segments N   Scan segments read in parallel, 1 to 1000 (default 4); as many\n"
    "                 items (16 at most) are handled at once\n"
    "\n" COMMON_OPTIONS "\n"
    "Exit status: 0 done; 1 items failed; 2 a usage error or a bad AUDIT_* variable, no such\n"
    "table or index, access denied or DynamoDB not reached.\n";

const char *cli_help(cli_command command)
{
    switch (command) {
    case CLI_HISTORY: return HISTORY;
    case CLI_SHOW: return SHOW;
    case CLI_VERIFY: return VERIFY;
    case CLI_BACKFILL: return BACKFILL;
    default: return GENERAL;
    }
}
