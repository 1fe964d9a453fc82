require "fileinto";
if size :over 237 { fileinto "o1"; }
if size :over 238 { fileinto "o2"; }
if size :under 238 { fileinto "u1"; }
if size :under 239 { fileinto "u2"; }
