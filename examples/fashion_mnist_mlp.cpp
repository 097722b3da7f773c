// The classic Keras Fashion-MNIST model in xgrad:
// Flatten(28x28) -> Dense(100, relu) -> Dense(10, softmax), Adam, sparse categorical
// cross-entropy. Prints the summary, trains, and reports test accuracy per class.
#include "examples/classifier_cli.h"
#include "xgrad.h"

using namespace xgrad;

int main(int argc, char** argv) {
    examples::ClassifierProgram program;
    program.description =
        "Train Flatten -> Dense(100, relu) -> Dense(10, softmax) on Fashion-MNIST.";
    program.build_model = [](nn::Sequential& model) {
        model.add(nn::Flatten({28, 28}));
        model.add(nn::Dense(100, "relu"));
        model.add(nn::Dense(10, "softmax"));
    };
    return examples::run_classifier(program, argc, argv);
}
