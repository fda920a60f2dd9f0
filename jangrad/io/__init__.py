"""What goes in and out of jangrad: files written safely, model files, the PyTorch bridge, and the safe parser
for the expressions a user types."""
