"""The public surface of Keras 2.3.1's `keras.backend`: its 154 names, in the order it exported them."""

KERAS2_NAMES = tuple(
    """
    epsilon set_epsilon floatx set_floatx cast_to_floatx image_data_format set_image_data_format
    normalize_data_format backend reset_uids get_uid learning_phase set_learning_phase is_sparse
    to_dense variable is_variable constant is_keras_tensor is_tensor placeholder is_placeholder shape
    int_shape ndim size dtype eval zeros ones eye zeros_like ones_like identity random_uniform_variable
    random_normal_variable count_params cast update update_add update_sub moving_average_update
    get_value batch_get_value set_value batch_set_value function gradients stop_gradient print_tensor
    name_scope control_dependencies symbolic eager max min sum prod cumsum cumprod var std mean any all
    argmax argmin logsumexp square abs sqrt exp log round sign pow clip equal not_equal greater
    greater_equal less less_equal maximum minimum sin cos dot batch_dot transpose gather concatenate
    reshape permute_dimensions repeat_elements repeat arange tile flatten batch_flatten expand_dims
    squeeze stack one_hot reverse slice resize_images resize_volumes temporal_padding spatial_2d_padding
    spatial_3d_padding relu elu softmax softplus softsign sigmoid hard_sigmoid tanh
    categorical_crossentropy sparse_categorical_crossentropy binary_crossentropy dropout l2_normalize
    in_top_k normalize_batch_in_training batch_normalization conv1d separable_conv1d conv2d
    separable_conv2d conv2d_transpose depthwise_conv2d conv3d conv3d_transpose pool2d pool3d
    local_conv1d local_conv2d bias_add random_normal random_uniform random_binomial truncated_normal rnn
    switch in_train_phase in_test_phase map_fn foldl foldr ctc_label_dense_to_sparse ctc_batch_cost
    ctc_decode
    """.split()
)

#: Names Keras 2 exported conditionally or dropped, kept for old code.
EXTRA_NAMES = ("image_dim_ordering", "set_image_dim_ordering", "get_variable_shape", "clear_session",
               "learning_phase_scope", "backend_scope", "random_bernoulli")
