require "fileinto";
if size :over 407 { fileinto "o1"; }
if size :over 408 { fileinto "o2"; }
if size :under 408 { fileinto "u1"; }
if size :under 409 { fileinto "u2"; }
