fileinto "X";
