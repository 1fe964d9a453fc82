require "fileinto";
if size :over 242 { fileinto "o1"; }
if size :over 243 { fileinto "o2"; }
if size :under 243 { fileinto "u1"; }
if size :under 244 { fileinto "u2"; }
