// PP-HumanSeg on Paddle Lite's ARM light API: load model_arm.nb, segment one image, write the mask.
//
//   pphumanseg_lite_demo MODEL_ARM_NB INPUT_IMAGE OUTPUT_MASK_PNG [WIDTH HEIGHT [THREADS]]
//
// WIDTH x HEIGHT is the network input (398 224 for the 398x224 configs, 256 144 for 256x144): the
// Resize of the model's deploy.yaml. Pre-processing is the one `pphumanseg export` writes into
// deploy.yaml: BGR -> RGB, resize, (x / 255 - 0.5) / 0.5. The mask is the person probability
// (softmax exports, float [1, 2, h, w]; foreground exports, float [1, 1, h, w]) or the person
// class (argmax exports, int32 [1, h, w]), scaled to 0..255 and resized bilinearly to the input
// image's size.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "paddle_api.h"

using paddle::lite_api::CreatePaddlePredictor;
using paddle::lite_api::MobileConfig;
using paddle::lite_api::PaddlePredictor;
using paddle::lite_api::PrecisionType;

namespace {

constexpr int kPersonClass = 1;

// Fills the NCHW float input from a BGR image.
void Preprocess(const cv::Mat& bgr, int width, int height, float* input) {
  cv::Mat resized, rgb;
  cv::resize(bgr, resized, cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
  cv::cvtColor(resized, rgb, cv::COLOR_BGR2RGB);
  const int plane = width * height;
  for (int y = 0; y < height; ++y) {
    const uint8_t* row = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) {
        input[c * plane + y * width + x] = (row[x * 3 + c] / 255.0f - 0.5f) / 0.5f;
      }
    }
  }
}

// Person probability (0..1) at network resolution from the first output tensor.
cv::Mat PersonProbability(const paddle::lite_api::Tensor& output) {
  const std::vector<int64_t> shape = output.shape();
  const int height = static_cast<int>(shape[shape.size() - 2]);
  const int width = static_cast<int>(shape[shape.size() - 1]);
  cv::Mat probability(height, width, CV_32F);
  if (output.precision() == PrecisionType::kInt32 || output.precision() == PrecisionType::kInt64) {
    // argmax export: class ids [1, h, w]
    for (int i = 0; i < height * width; ++i) {
      const int64_t label = output.precision() == PrecisionType::kInt32
                                ? output.data<int32_t>()[i]
                                : output.data<int64_t>()[i];
      probability.at<float>(i / width, i % width) = label == kPersonClass ? 1.0f : 0.0f;
    }
  } else {
    // softmax export: probabilities [1, C, h, w], the person plane is channel 1; foreground
    // export: the person probability alone [1, 1, h, w] (never class ids: those are integers)
    const bool one_channel = shape.size() == 4 && shape[1] == 1;
    const float* data = output.data<float>() + (one_channel ? 0 : kPersonClass) * height * width;
    std::copy(data, data + height * width, probability.ptr<float>());
  }
  return probability;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 6 && argc != 7) {
    std::cerr << "usage: " << argv[0]
              << " MODEL_ARM_NB INPUT_IMAGE OUTPUT_MASK_PNG [WIDTH HEIGHT [THREADS]]\n";
    return 2;
  }
  const std::string model_path = argv[1], image_path = argv[2], mask_path = argv[3];
  const int width = argc >= 6 ? std::atoi(argv[4]) : 398;
  const int height = argc >= 6 ? std::atoi(argv[5]) : 224;
  const int threads = argc == 7 ? std::atoi(argv[6]) : 1;

  cv::Mat image = cv::imread(image_path, cv::IMREAD_COLOR);
  if (image.empty()) {
    std::cerr << "error: " << image_path << ": not a readable image\n";
    return 2;
  }

  MobileConfig config;
  config.set_model_from_file(model_path);
  config.set_threads(threads);
  config.set_power_mode(paddle::lite_api::LITE_POWER_HIGH);
  std::shared_ptr<PaddlePredictor> predictor = CreatePaddlePredictor<MobileConfig>(config);

  std::unique_ptr<paddle::lite_api::Tensor> input = predictor->GetInput(0);
  input->Resize({1, 3, height, width});
  Preprocess(image, width, height, input->mutable_data<float>());

  const auto start = std::chrono::steady_clock::now();
  predictor->Run();
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  std::unique_ptr<const paddle::lite_api::Tensor> output = predictor->GetOutput(0);
  cv::Mat probability = PersonProbability(*output);
  cv::Mat full, mask;
  cv::resize(probability, full, image.size(), 0, 0, cv::INTER_LINEAR);
  full.convertTo(mask, CV_8U, 255.0);
  if (!cv::imwrite(mask_path, mask)) {
    std::cerr << "error: " << mask_path << ": could not write the mask\n";
    return 2;
  }
  std::printf("%s: %dx%d input, %d thread(s), %.2f ms per frame; mask written to %s\n",
              model_path.c_str(), width, height, threads, ms, mask_path.c_str());
  return 0;
}
