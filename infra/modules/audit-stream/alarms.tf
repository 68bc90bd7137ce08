# Alarms for the three ways the pipeline goes wrong: it falls behind the stream
# (IteratorAge), invocations fail (Errors), or batches are given up (messages in the
# failure queue). They notify the optional topic and var.alarm_actions.

# CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key
# aws/sns (its key policy does not let CloudWatch use it), and a notification holds
# no audit data, so the topic is left with SNS's default encryption in transit only.
resource "aws_sns_topic" "alarms" {
  count = var.create_alarm_topic ? 1 : 0
  name  = "${var.name_prefix}audit_producer-alarms"
  tags  = var.tags
}

resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  alarm_name        = "${local.function_name}-iterator-age"
  alarm_description = "${local.function_name} is more than ${var.iterator_age_alarm_threshold_seconds} s behind the ${local.configuration_table_name} stream."
  namespace         = "AWS/Lambda"
  metric_name       = "IteratorAge"
  dimensions = {
    FunctionName = aws_lambda_function.audit_producer.function_name
  }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.iterator_age_alarm_threshold_seconds * 1000 # the metric is in ms
  treat_missing_data  = "notBreaching"                                  # no batches, no lag
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name        = "${local.function_name}-errors"
  alarm_description = "${local.function_name} invocations fail: no record of a batch could be written, or the event was not a DynamoDB Streams event."
  namespace         = "AWS/Lambda"
  metric_name       = "Errors"
  dimensions = {
    FunctionName = aws_lambda_function.audit_producer.function_name
  }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.errors_alarm_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

# Any message at all: each one is a batch of Configuration changes that reached no
# audit item. SQS publishes its metrics every five minutes.
resource "aws_cloudwatch_metric_alarm" "failed_batches" {
  alarm_name        = "${local.function_name}-failed-batches"
  alarm_description = "Stream batches were given up and described in ${local.failure_queue_name}: their changes have no audit items yet."
  namespace         = "AWS/SQS"
  metric_name       = "ApproximateNumberOfMessagesVisible"
  dimensions = {
    QueueName = aws_sqs_queue.failures.name
  }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}
