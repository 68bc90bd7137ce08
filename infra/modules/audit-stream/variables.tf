# Inputs of the audit-stream module. Every default is the production choice; every
# variable is validated here, so that the root configuration can pass null for
# "use the module's default" (nullable = false turns a null input into the default).

# ---- naming and packaging ---------------------------------------------------------

variable "name_prefix" {
  description = "Prefix for every name the module creates (tables, function, role, queue, alarms): \"\" gives the tables Configuration and Audit and the function audit_producer; \"prod-\" gives prod-Configuration, prod-Audit, prod-audit_producer."
  type        = string
  default     = ""
  nullable    = false

  validation {
    # The characters every named resource accepts (a Lambda function name refuses ".",
    # an SQS queue name refuses most punctuation), and short enough that the longest
    # derived name (the failure queue's) stays far below every service's limit.
    condition     = can(regex("^[A-Za-z0-9_-]{0,32}$", var.name_prefix))
    error_message = "The value of name_prefix must be at most 32 characters of A-Z, a-z, 0-9, \"_\" and \"-\"."
  }
}

variable "package_dir" {
  description = "Directory holding the zips that `make package` writes: audit_producer-arm64.zip and audit_producer-x86_64.zip (the repository's dist/)."
  type        = string
  nullable    = false

  validation {
    condition     = length(trimspace(var.package_dir)) > 0
    error_message = "The value of package_dir must name the directory holding audit_producer-<architecture>.zip."
  }
}

variable "architecture" {
  description = "Instruction set of the function, which also picks the zip: arm64 (Graviton, cheaper per GB-second) or x86_64."
  type        = string
  default     = "arm64"
  nullable    = false

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "The value of architecture must be \"arm64\" or \"x86_64\" (the two zips `make package` builds)."
  }
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = {}
  nullable    = false
}

# ---- tables -------------------------------------------------------------------------

variable "billing_mode" {
  description = "Capacity mode of both tables: PAY_PER_REQUEST (on-demand) or PROVISIONED (then provisioned_capacity applies)."
  type        = string
  default     = "PAY_PER_REQUEST"
  nullable    = false

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.billing_mode)
    error_message = "The value of billing_mode must be \"PAY_PER_REQUEST\" or \"PROVISIONED\"."
  }
}

variable "provisioned_capacity" {
  description = "Read and write capacity units of each table and of the Audit table's history index, used only when billing_mode is PROVISIONED. Stream reads cost no read capacity; the Audit table takes one write per audit item, and so does the index (history_read and history_write default to audit_read and audit_write: an index short of write capacity throttles the table's writes)."
  type = object({
    configuration_read  = number
    configuration_write = number
    audit_read          = number
    audit_write         = number
    history_read        = optional(number)
    history_write       = optional(number)
  })
  default = {
    configuration_read  = 5
    configuration_write = 5
    audit_read          = 5
    audit_write         = 5
  }
  nullable = false

  validation {
    condition = alltrue([
      for k, v in var.provisioned_capacity :
      v == null ? startswith(k, "history_") : (v >= 1 && floor(v) == v)
    ])
    error_message = "The value of provisioned_capacity must hold whole numbers of at least 1 (history_read and history_write may be left out)."
  }
}

variable "audit_ttl_attribute" {
  description = "Name of a Number attribute (epoch seconds) that DynamoDB's TTL expires Audit items by, for items something other than the function stamps. Prefer audit_retention_days, with which the function writes expiresAt and TTL is on expiresAt; with it set this must be null or \"expiresAt\" (a table has one TTL attribute). Null with no retention: TTL off, every item kept."
  type        = string
  default     = null

  validation {
    condition     = var.audit_ttl_attribute == null || can(regex("^[A-Za-z0-9_.-]{1,255}$", var.audit_ttl_attribute))
    error_message = "The value of audit_ttl_attribute must be null or 1 to 255 characters of A-Z, a-z, 0-9, \"_\", \".\" and \"-\"."
  }
}

variable "history_index" {
  description = "Whether the Audit table has the global secondary index history (hash key historyKey, range key historySort, projection ALL) that `auditstream` reads one item's trail through (history, show, verify, backfill); without it those commands cannot run, and say that this variable creates it."
  type        = bool
  default     = true
  nullable    = false
}

variable "deletion_protection" {
  description = "Whether DynamoDB refuses to delete the two tables. On by default because the Audit table is the audit trail; set it to false and apply before a `terraform destroy`."
  type        = bool
  default     = true
  nullable    = false
}

# ---- people and tools that read the trail ------------------------------------------

variable "create_trail_policies" {
  description = "Whether to create the two managed IAM policies for the trail's readers and for backfill (reader_policy_arn, backfill_policy_arn); their documents are outputs either way (reader_policy_json, backfill_policy_json), for an account where policies are made elsewhere."
  type        = bool
  default     = true
  nullable    = false
}

# ---- function -----------------------------------------------------------------------

variable "memory_size" {
  description = "Memory of the function in MB (CPU grows with it)."
  type        = number
  default     = 256
  nullable    = false

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "The value of memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "timeout" {
  description = "Time limit of one invocation in seconds. The function stops before it and reports the first unwritten record, so a batch is never lost to a timeout."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "The value of timeout must be a whole number of seconds from 1 to 900."
  }
}

variable "audit_format" {
  description = "Shape of the audit items (AUDIT_FORMAT): classic (one item per changed attribute) or detailed (one item per change with a JSON Pointer diff)."
  type        = string
  default     = "classic"
  nullable    = false

  validation {
    condition     = contains(["classic", "detailed"], var.audit_format)
    error_message = "The value of audit_format must be \"classic\" or \"detailed\"."
  }
}

variable "audit_ignore_attributes" {
  description = "Top-level attributes not audited at all (AUDIT_IGNORE_ATTRIBUTES), e.g. [\"updatedAt\"]: left out of diffs and of whole images in both formats."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.audit_ignore_attributes : length(a) > 0 && !strcontains(a, ",")])
    error_message = "The value of audit_ignore_attributes must hold non-empty names without commas."
  }

  validation {
    condition     = length(var.audit_ignore_attributes) <= 64
    error_message = "The value of audit_ignore_attributes must hold at most 64 names (the most the function reads)."
  }
}

variable "audit_concurrency" {
  description = "Write requests (PutItem or BatchWriteItem, as audit_write_api says) the function keeps in flight at once (AUDIT_CONCURRENCY)."
  type        = number
  default     = 8
  nullable    = false

  validation {
    condition     = var.audit_concurrency >= 1 && var.audit_concurrency <= 256 && floor(var.audit_concurrency) == var.audit_concurrency
    error_message = "The value of audit_concurrency must be a whole number from 1 to 256."
  }
}

variable "log_level" {
  description = "Lowest level of the function's JSON log lines that reaches CloudWatch Logs (Lambda's application log level)."
  type        = string
  default     = "INFO"
  nullable    = false

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.log_level)
    error_message = "The value of log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the function's log group; 0 keeps it forever."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The value of log_retention_days must be 0 or one of the periods CloudWatch Logs offers: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

# ---- trusting the trail (each null or empty: not passed, the function's default) -----

variable "audit_actor_attribute" {
  description = "Attribute in which the application records who made a change (AUDIT_ACTOR_ATTRIBUTE): every audit item then carries actor and actorSource. Null: none (a TTL delete is named dynamodb.amazonaws.com either way). It may not also be in audit_redact_attributes or audit_ignore_attributes."
  type        = string
  default     = null

  validation {
    # The function trims spaces and tabs around a name: refuse them here rather than
    # deploy a name other than the one written. It refuses a comma (one attribute names
    # the actor).
    condition     = var.audit_actor_attribute == null ? true : (length(var.audit_actor_attribute) > 0 && var.audit_actor_attribute == trim(var.audit_actor_attribute, " \t") && !strcontains(var.audit_actor_attribute, ","))
    error_message = "The value of audit_actor_attribute must be null or one attribute name: not empty, no comma, no spaces or tabs around it."
  }
}

variable "audit_retention_days" {
  description = "Whole days an audit item is kept (AUDIT_RETENTION_DAYS), 1 to 36500: the function writes expiresAt (its change's time plus these days) and the Audit table's TTL is turned on for expiresAt. Null: kept forever, TTL off. Chain heads never expire."
  type        = number
  default     = null

  validation {
    condition     = var.audit_retention_days == null ? true : (var.audit_retention_days >= 1 && var.audit_retention_days <= 36500 && floor(var.audit_retention_days) == var.audit_retention_days)
    error_message = "The value of audit_retention_days must be null (keep forever) or a whole number of days from 1 to 36500."
  }
}

variable "audit_redact_attributes" {
  description = "Top-level attributes whose changes are audited but whose values are never stored (AUDIT_REDACT_ATTRIBUTES), e.g. [\"password\"]: each value becomes a redacted marker, with an HMAC when audit_redact_key is set. The table's key attribute is never redacted."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.audit_redact_attributes : length(a) > 0 && !strcontains(a, ",") && a == trim(a, " \t")])
    error_message = "The value of audit_redact_attributes must hold attribute names, none empty, none with a comma, none with spaces or tabs around it."
  }

  validation {
    condition     = length(distinct(var.audit_redact_attributes)) == length(var.audit_redact_attributes)
    error_message = "The value of audit_redact_attributes must not name an attribute twice."
  }

  validation {
    condition     = length(var.audit_redact_attributes) <= 64
    error_message = "The value of audit_redact_attributes must hold at most 64 names (the most the function reads)."
  }
}

variable "audit_redact_key" {
  description = "HMAC-SHA256 key of redacted values' digests (AUDIT_REDACT_KEY): standard base64, padded, of 32 to 256 random bytes (`openssl rand -base64 32`). Equal values then carry equal digests without being revealed. Sensitive: never shown by plan or output, but kept in the state and in the function's configuration, like every secret Terraform deploys. Null: redacted values carry no digest."
  type        = string
  default     = null
  sensitive   = true

  # No validation block: Terraform prints the value a validation block refuses, even
  # of a sensitive variable when the caller's own variable is not. The key is checked
  # by a precondition of the function instead (function.tf), whose failure shows no
  # value: "The value of audit_redact_key must ...".

}

variable "audit_chain" {
  description = "Whether the function links each source item's records into a hash chain (AUDIT_CHAIN on or off) that `auditstream verify` recomputes. On grants the function and the backfill policy BatchGetItem on the Audit table (they read the chain heads; they move them with the conditional PutItem they already have). Null: not set, the function's default (off)."
  type        = bool
  default     = null
}

variable "audit_write_api" {
  description = "How the function writes audit items (AUDIT_WRITE_API): PutItem (one item a request) or BatchWriteItem (up to 25 a request, fewer round trips and less CPU; grants the function dynamodb:BatchWriteItem on the Audit table, which IAM cannot limit to puts). Null: not set, the function's default (PutItem)."
  type        = string
  default     = null

  validation {
    condition     = var.audit_write_api == null ? true : contains(["PutItem", "BatchWriteItem"], var.audit_write_api)
    error_message = "The value of audit_write_api must be null, \"PutItem\" or \"BatchWriteItem\"."
  }
}

# ---- event source mapping -----------------------------------------------------------

variable "starting_position" {
  description = "Where a new mapping starts reading the Configuration stream: TRIM_HORIZON (the oldest record kept, so that no change made before the mapping existed is missed) or LATEST."
  type        = string
  default     = "TRIM_HORIZON"
  nullable    = false

  validation {
    condition     = contains(["TRIM_HORIZON", "LATEST"], var.starting_position)
    error_message = "The value of starting_position must be \"TRIM_HORIZON\" or \"LATEST\"."
  }
}

variable "batch_size" {
  description = "Most stream records in one invocation."
  type        = number
  default     = 100
  nullable    = false

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000 && floor(var.batch_size) == var.batch_size
    error_message = "The value of batch_size must be a whole number from 1 to 10000."
  }
}

variable "maximum_batching_window_in_seconds" {
  description = "Seconds Lambda may wait to fill a batch before invoking; 0 invokes as soon as records arrive."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.maximum_batching_window_in_seconds >= 0 && var.maximum_batching_window_in_seconds <= 300 && floor(var.maximum_batching_window_in_seconds) == var.maximum_batching_window_in_seconds
    error_message = "The value of maximum_batching_window_in_seconds must be a whole number from 0 to 300."
  }
}

variable "parallelization_factor" {
  description = "Batches processed at once per stream shard. Records of one item stay in order whatever the factor."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.parallelization_factor >= 1 && var.parallelization_factor <= 10 && floor(var.parallelization_factor) == var.parallelization_factor
    error_message = "The value of parallelization_factor must be a whole number from 1 to 10."
  }
}

variable "maximum_record_age_in_seconds" {
  description = "Age past which a failing record is given up and sent to the failure queue; -1 means until the stream drops it (DynamoDB keeps 24 hours). The default is that same 24 hours, stated."
  type        = number
  default     = 86400
  nullable    = false

  validation {
    condition     = var.maximum_record_age_in_seconds == -1 || (var.maximum_record_age_in_seconds >= 60 && var.maximum_record_age_in_seconds <= 604800 && floor(var.maximum_record_age_in_seconds) == var.maximum_record_age_in_seconds)
    error_message = "The value of maximum_record_age_in_seconds must be -1 or a whole number from 60 to 604800."
  }
}

variable "maximum_retry_attempts" {
  description = "Retries of a failing batch before its records go to the failure queue; -1 retries until the record is too old, which blocks the shard that long."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = var.maximum_retry_attempts >= -1 && var.maximum_retry_attempts <= 10000 && floor(var.maximum_retry_attempts) == var.maximum_retry_attempts
    error_message = "The value of maximum_retry_attempts must be a whole number from -1 to 10000."
  }
}

variable "bisect_batch_on_function_error" {
  description = "Whether a batch whose invocation fails as a whole is split in two and retried, so that one bad record cannot hold back the rest."
  type        = bool
  default     = true
  nullable    = false
}

# ---- alarms -------------------------------------------------------------------------

variable "iterator_age_alarm_threshold_seconds" {
  description = "Alarm when the records the mapping hands the function are older than this many seconds (IteratorAge, the age of the last record of each batch): the function is falling behind the Configuration table."
  type        = number
  default     = 300
  nullable    = false

  validation {
    condition     = var.iterator_age_alarm_threshold_seconds >= 1 && var.iterator_age_alarm_threshold_seconds <= 86400
    error_message = "The value of iterator_age_alarm_threshold_seconds must be from 1 to 86400."
  }
}

variable "errors_alarm_threshold" {
  description = "Alarm when the function's Errors (failed invocations: no record of a batch could be written, or a malformed event) reach this count in a period."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.errors_alarm_threshold >= 1 && floor(var.errors_alarm_threshold) == var.errors_alarm_threshold
    error_message = "The value of errors_alarm_threshold must be a whole number of at least 1."
  }
}

variable "alarm_period_seconds" {
  description = "Length of one evaluation period of the IteratorAge and Errors alarms."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = contains([10, 30], var.alarm_period_seconds) || (var.alarm_period_seconds >= 60 && var.alarm_period_seconds % 60 == 0)
    error_message = "The value of alarm_period_seconds must be 10, 30 or a multiple of 60."
  }
}

variable "alarm_evaluation_periods" {
  description = "Consecutive periods over threshold before the IteratorAge and Errors alarms fire."
  type        = number
  default     = 3
  nullable    = false

  validation {
    condition     = var.alarm_evaluation_periods >= 1 && floor(var.alarm_evaluation_periods) == var.alarm_evaluation_periods
    error_message = "The value of alarm_evaluation_periods must be a whole number of at least 1."
  }
}

variable "create_alarm_topic" {
  description = "Whether to create an SNS topic that every alarm notifies (on alarm and on recovery); subscribe to it outside this module."
  type        = bool
  default     = false
  nullable    = false
}

variable "alarm_actions" {
  description = "ARNs of existing SNS topics (or other alarm actions) that every alarm notifies, besides the created topic."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.alarm_actions : startswith(a, "arn:")])
    error_message = "The value of alarm_actions must hold ARNs."
  }
}
