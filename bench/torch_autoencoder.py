#!/usr/bin/python3
"""The PyTorch twin of examples/fashion_mnist_autoencoder: the autoencoder of TensorFlow's
"Intro to Autoencoders" (encoder Flatten -> Linear(784, 64) -> ReLU, decoder Linear(64, 784) ->
Sigmoid -> reshape to 28x28), Keras' initialisation (Glorot uniform, zero biases), Adam with
Keras' epsilon, mean squared error with the images as their own targets. Prints one line per
epoch: its training time, the mean training loss and the test reconstruction MSE."""
import torch

import torch_fashion

a = torch_fashion.parse_args(epochs=10, flush_denormal=False)
x_train = torch_fashion.images(a.data_dir, "train", (28, 28))
x_test = torch_fashion.images(a.data_dir, "t10k", (28, 28))


class Autoencoder(torch.nn.Module):
    def __init__(self, latent_dim=64):
        super().__init__()
        self.encoder = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, latent_dim),
                                           torch.nn.ReLU())
        self.decoder = torch.nn.Sequential(torch.nn.Linear(latent_dim, 784), torch.nn.Sigmoid(),
                                           torch.nn.Unflatten(1, (28, 28)))

    def forward(self, x):
        return self.decoder(self.encoder(x))


model = torch_fashion.keras_init(Autoencoder())
opt = torch_fashion.keras_adam(model)
loss_fn = torch.nn.MSELoss()
for epoch in range(a.epochs):
    seconds, loss = torch_fashion.train_epoch(model, opt, loss_fn, x_train, None, a.batch_size)
    with torch.no_grad():
        test_mse = loss_fn(model(x_test), x_test).item()
    print(f"epoch {epoch + 1} train_time {seconds:.3f}s loss {loss:.5f} "
          f"test_mse {test_mse:.5f}", flush=True)
