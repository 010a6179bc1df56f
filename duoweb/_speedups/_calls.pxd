# Calling a handler by keyword names from C, shared by the dispatcher (_serve.pyx) and the
# credential gate (_credentials.pyx): one inline function, compiled into each caller.

from cpython.object cimport PyObject


cdef extern from "Python.h":
    object PyObject_Vectorcall(object callable, PyObject** args, size_t nargsf, PyObject* kwnames)
    PyObject* PyDict_GetItemWithError(object mapping, object key) except? NULL
    Py_ssize_t PyDict_GET_SIZE(object mapping)
    Py_ssize_t PyTuple_GET_SIZE(object tuple)
    PyObject* PyTuple_GET_ITEM(object tuple, Py_ssize_t index)

cdef enum:
    # Most keyword arguments a call passes from the C stack; more go through a dict.
    _STACK_ARGS = 8


cdef inline object call_by_names(handler, tuple names, dict found, extra, bint lone_by_position):
    """Call ``handler`` with ``found``'s captures by the keyword ``names``, then ``extra`` as
    the last name when ``names`` has one more than ``found``: by vectorcall, with no dict copy
    and no dict lend. ``lone_by_position`` passes ``extra`` by position when it is alone."""
    cdef Py_ssize_t count = PyTuple_GET_SIZE(names)
    cdef Py_ssize_t captured = PyDict_GET_SIZE(found)
    cdef Py_ssize_t i
    cdef PyObject* argv[_STACK_ARGS]
    cdef PyObject* value
    if count == 0 and captured == 0:
        return PyObject_Vectorcall(handler, NULL, 0, NULL)
    if count > _STACK_ARGS or count < captured or count > captured + 1:
        arguments = dict(found)  # not planned this way; correct, if slower
        if count > captured:
            arguments[names[count - 1]] = extra
        return handler(**arguments)
    for i in range(captured):
        name = <object>PyTuple_GET_ITEM(names, i)
        value = PyDict_GetItemWithError(found, name)
        if value == NULL:  # (an error the lookup raised propagates by itself)
            raise KeyError(name)
        argv[i] = value
    if count > captured:
        argv[captured] = <PyObject*>extra
        if captured == 0 and lone_by_position:
            return PyObject_Vectorcall(handler, argv, 1, NULL)
    return PyObject_Vectorcall(handler, argv, 0, <PyObject*>names)
