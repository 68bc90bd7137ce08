# The event source mapping from the Configuration stream to the function, and the
# queue that receives the description of every batch it gives up on.

# Lambda puts here the shard, sequence-number range and reason of each batch it stops
# retrying, so that nothing is dropped silently: the alarm on this queue pages, and the
# message says which records to re-read from the stream while it keeps them (24 hours).
resource "aws_sqs_queue" "failures" {
  name                      = local.failure_queue_name
  message_retention_seconds = 1209600 # 14 days, SQS's longest
  sqs_managed_sse_enabled   = true    # SSE-SQS: encrypted, and no KMS grant for the role
  tags                      = var.tags
}

resource "aws_lambda_event_source_mapping" "configuration_stream" {
  event_source_arn  = aws_dynamodb_table.configuration.stream_arn
  function_name     = aws_lambda_function.audit_producer.arn
  starting_position = var.starting_position

  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  parallelization_factor             = var.parallelization_factor

  # The handler answers with the first record it could not write; Lambda checkpoints
  # there and redelivers from it instead of retrying the whole batch.
  function_response_types = ["ReportBatchItemFailures"]

  # A batch that fails whole is split until the failing record stands alone; after the
  # retries or the age limit its description goes to the queue and the shard moves on.
  bisect_batch_on_function_error = var.bisect_batch_on_function_error
  maximum_retry_attempts         = var.maximum_retry_attempts
  maximum_record_age_in_seconds  = var.maximum_record_age_in_seconds

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.failures.arn
    }
  }

  # Lambda checks the role's stream permissions when the mapping is created.
  depends_on = [aws_iam_role_policy.function]
}
