// The Jupyter widgets HTML manager typesets widget labels through MathJax 2's API
// (MathJax.Hub.Queue); the book loads MathJax 3, which has no Hub. Widget labels here hold
// no mathematics, so the call only needs to exist.
if (window.MathJax && !window.MathJax.Hub) {
  window.MathJax.Hub = { Queue: function () {} };
}
