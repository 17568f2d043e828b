from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Health, metrics, structured logs and production checks (docs/deployment.md)."""

    name = "pbxportal.ops"
    label = "ops"

    def ready(self) -> None:
        from celery import signals
        from django.core.signals import request_finished

        from pbxportal.ops import logging as ops_logging
        from pbxportal.ops import metrics

        request_finished.connect(
            ops_logging.end_request, weak=False, dispatch_uid="pbxportal.ops.end_request"
        )
        signals.before_task_publish.connect(ops_logging.add_request_id_header, weak=False)
        signals.task_prerun.connect(ops_logging.restore_request_id, weak=False)
        signals.task_postrun.connect(ops_logging.clear_request_id, weak=False)
        signals.setup_logging.connect(ops_logging.keep_django_logging, weak=False)
        for outcome, signal in (
            ("success", signals.task_success),
            ("failure", signals.task_failure),
            ("retry", signals.task_retry),
        ):
            signal.connect(metrics.task_outcome(outcome), weak=False, dispatch_uid=f"pbxportal.ops.{outcome}")
        signals.worker_ready.connect(metrics.serve_worker_metrics, weak=False)
