"""The runtime package keeps its own copies of the exported-model names; they must agree."""
from pphumanseg.core import model_files
from pphumanseg_deploy import deploy_config, onnx_backend


def test_the_deploy_package_agrees_on_exported_file_names_and_output_ops():
    assert deploy_config.DEPLOY_FILE == model_files.DEPLOY_FILE
    assert deploy_config.OUTPUT_OPS == model_files.OUTPUT_OPS
    assert onnx_backend.ONNX_FILE == model_files.ONNX_FILE
